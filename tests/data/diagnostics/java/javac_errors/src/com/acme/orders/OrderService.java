package com.acme.orders;

import java.util.List;

public class OrderService {
    public int total(List<Integer> prices) {
        int sum = 0;
        for (int p : prices) {
            sum += p;
        }
        return sum;
    }

    public String label() {
        return count;
    }

    public int size(List<String> names) {
        String n = names.size();
        return n.length();
    }
}

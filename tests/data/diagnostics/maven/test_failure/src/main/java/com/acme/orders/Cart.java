package com.acme.orders;

import java.util.List;

public class Cart {
    public static int total(List<Integer> prices) {
        int sum = 1;
        for (int p : prices) {
            sum += p;
        }
        return sum;
    }

    public static int first(List<Integer> prices) {
        return prices.get(0);
    }
}

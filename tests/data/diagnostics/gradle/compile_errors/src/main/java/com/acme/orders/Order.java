package com.acme.orders;

import java.util.List;

public class Order {
    private final List<Integer> prices;

    public Order(List<Integer> prices) {
        this.prices = prices;
    }

    public int total() {
        String count = prices.size();
        int sum = 0;
        for (int p : prices) {
            sum += p;
        }
        return sum + count;
    }
}

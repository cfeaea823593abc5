package com.acme.orders;

public class Invoice {
    public String number(int seq) {
        return prefix() + seq;
    }

    public double tax(double amount) {
        return amount * rate;
    }
}

package com.acme.orders;

public class Main {
    public static void main(String[] args) {
        System.out.println("orders service starting, error rate 0");
        new OrderService().place("ORD-1");
    }
}

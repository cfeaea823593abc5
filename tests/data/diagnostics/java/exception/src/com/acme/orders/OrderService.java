package com.acme.orders;

public class OrderService {
    private final Repository repo = new Repository();

    public void place(String id) {
        try {
            repo.save(id);
        } catch (IllegalStateException e) {
            throw new RuntimeException("could not place order " + id, e);
        }
    }
}

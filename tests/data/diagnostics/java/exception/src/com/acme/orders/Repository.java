package com.acme.orders;

import java.util.HashMap;
import java.util.Map;

public class Repository {
    private final Map<String, Integer> rows = new HashMap<>();

    public void save(String id) {
        try {
            int n = Integer.parseInt(id);
            rows.put(id, n);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("bad id " + id, e);
        }
    }
}

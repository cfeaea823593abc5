package com.acme.billing;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

public class Invoices {
    private static final Logger LOG = Logger.getLogger(Invoices.class.getName());

    static int total(List<Integer> amounts) {
        int sum = 0;
        for (int i = 0; i <= amounts.size(); i++) {
            sum += amounts.get(i);
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        LOG.info("billing started; error rate 0");
        try {
            total(List.of(1, 2, 3));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "could not total invoices", e);
        }
        Thread worker = new Thread(() -> {
            String id = null;
            LOG.info("worker " + id.length());
        }, "worker-1");
        worker.start();
        worker.join();
        LOG.info("done");
    }
}

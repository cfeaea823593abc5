package com.acme.files;

public class Export {
    static class Sink implements AutoCloseable {
        private final String name;

        Sink(String name) {
            this.name = name;
        }

        void write(String row) {
            throw new IllegalStateException("disk full while writing " + row);
        }

        @Override
        public void close() {
            throw new IllegalArgumentException("cannot flush " + name);
        }
    }

    static void export(String row) {
        try (Sink sink = new Sink("orders.csv")) {
            sink.write(row);
        }
    }

    public static void main(String[] args) {
        export("order-1");
    }
}

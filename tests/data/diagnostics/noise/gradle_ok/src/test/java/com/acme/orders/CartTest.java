package com.acme.orders;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class CartTest {
    @Test
    public void adds() {
        System.out.println("Cart.java:[5,9] was the old error, now fixed");
        assertEquals(5, Cart.total(2, 3));
    }
}

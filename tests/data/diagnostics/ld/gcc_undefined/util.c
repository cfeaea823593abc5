#include <stdio.h>

void helper(void) { puts("util"); }

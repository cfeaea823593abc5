#include <stdio.h>

static int square(int x) {
    return x * x;
}

int main(void) {
    int unused = 3;
    char *name = 42;
    printf("%d\n", square(2, 3));
    return undefined_value;
}

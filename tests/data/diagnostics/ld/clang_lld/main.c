#include <stdio.h>

int scale(int v);

int main(void) {
    int x = 4;
    printf("%d\n", scale(x));
    return 0;
}

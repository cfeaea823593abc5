#include <stdio.h>

int total(int a, int b);
void helper(void) {}

int main(void) {
    printf("%d\n", total(1, 2));
    return 0;
}

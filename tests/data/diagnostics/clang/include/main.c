#include "config.h"

int main(void) {
    struct config c = {8080, "localhost"};
    return c.port == 0;
}

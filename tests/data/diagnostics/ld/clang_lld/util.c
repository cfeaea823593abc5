int shared_count = 1;

int bump(void) {
    return ++shared_count;
}

int shared_count = 2;

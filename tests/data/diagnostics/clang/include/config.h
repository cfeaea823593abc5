#ifndef CONFIG_H
#define CONFIG_H

struct config {
    int port;
    const char *host;
};

static inline int config_valid(const struct config *c) {
    return c->port > 0 && c->hostname != 0;
}

#endif

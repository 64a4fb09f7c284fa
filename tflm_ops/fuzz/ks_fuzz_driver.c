// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * A stand-in for libFuzzer's main where clang is not installed: feeds a
 * fuzz target (LLVMFuzzerTestOneInput) the files named on the command line,
 * or `-runs=N` pseudo-random inputs from `-seed=S` (xorshift64*, lengths
 * 0..4095).  Not coverage-guided; built with gcc's AddressSanitizer and
 * UndefinedBehaviorSanitizer it still catches any read past a tensor.
 * Prints "Done N runs" like libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t g_state;

static uint64_t next_random(void)
{
    g_state ^= g_state >> 12;
    g_state ^= g_state << 25;
    g_state ^= g_state >> 27;
    return g_state * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
    long runs = 10000;
    unsigned long long seed = 1;
    int files = 0;
    int i;
    long r;
    for (i = 1; i < argc; ++i) {
        if (strncmp(argv[i], "-runs=", 6) == 0) {
            runs = strtol(argv[i] + 6, NULL, 10);
        } else if (strncmp(argv[i], "-seed=", 6) == 0) {
            seed = strtoull(argv[i] + 6, NULL, 10);
        } else if (argv[i][0] != '-') {
            FILE *f = fopen(argv[i], "rb");
            uint8_t *buf;
            long n;
            if (f == NULL) {
                fprintf(stderr, "cannot open %s\n", argv[i]);
                return 2;
            }
            fseek(f, 0, SEEK_END);
            n = ftell(f);
            fseek(f, 0, SEEK_SET);
            buf = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
            if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                fprintf(stderr, "cannot read %s\n", argv[i]);
                return 2;
            }
            fclose(f);
            LLVMFuzzerTestOneInput(buf, (size_t)n);
            free(buf);
            ++files;
        }
    }
    if (files > 0) {
        printf("Done %d runs\n", files);
        return 0;
    }
    g_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (r = 0; r < runs; ++r) {
        const size_t n = (size_t)(next_random() % 4096);
        uint8_t *buf = (uint8_t *)malloc(n > 0 ? n : 1);
        size_t j;
        for (j = 0; j < n; ++j) {
            buf[j] = (uint8_t)(next_random() >> 56);
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    printf("Done %ld runs\n", runs);
    return 0;
}

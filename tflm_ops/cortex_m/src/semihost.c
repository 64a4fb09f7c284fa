// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Semihosting calls and the few newlib system calls the images need
 * (printf -> _write -> SYS_WRITE on ":tt"; exit -> SYS_EXIT_EXTENDED).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "ks_semihost.h"

enum {
    SYS_OPEN = 0x01,
    SYS_WRITE = 0x05,
    SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

uintptr_t ks_semihost_call(uint32_t op, uintptr_t arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int ks_stdout_handle = -1;

static int stdout_handle(void)
{
    if (ks_stdout_handle < 0) {
        static const char tt[] = ":tt";
        uintptr_t args[3] = {(uintptr_t)tt, 4 /* "w" */, sizeof tt - 1};
        ks_stdout_handle = (int)ks_semihost_call(SYS_OPEN, (uintptr_t)args);
    }
    return ks_stdout_handle;
}

size_t ks_semihost_write(const void *buf, size_t len)
{
    uintptr_t args[3] = {(uintptr_t)stdout_handle(), (uintptr_t)buf, len};
    uintptr_t not_written = ks_semihost_call(SYS_WRITE, (uintptr_t)args);
    return not_written > len ? 0 : len - not_written;
}

void ks_semihost_puts(const char *s)
{
    ks_semihost_write(s, strlen(s));
}

void ks_semihost_put_u32(uint32_t v)
{
    char buf[11];
    char *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    ks_semihost_write(p, (size_t)(buf + sizeof buf - p));
}

void ks_semihost_put_hex(uint32_t v)
{
    char buf[8];
    for (int i = 7; i >= 0; i--) {
        buf[i] = "0123456789abcdef"[v & 0xFu];
        v >>= 4;
    }
    ks_semihost_write(buf, sizeof buf);
}

void ks_semihost_exit(int status)
{
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(uint32_t)status};
    ks_semihost_call(SYS_EXIT_EXTENDED, (uintptr_t)block);
    for (;;) {
        /* not reached under QEMU */
    }
}

/* ---- newlib system calls ------------------------------------------------ */
extern char ks_heap_start[], ks_heap_end[];

int _write(int fd, const void *buf, size_t len);
int _read(int fd, void *buf, size_t len);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
void *_sbrk(ptrdiff_t incr);
void _exit(int status);
int _kill(int pid, int sig);
int _getpid(void);

int _write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    return (int)ks_semihost_write(buf, len);
}

int _read(int fd, void *buf, size_t len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0;
}

int _close(int fd)
{
    (void)fd;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    (void)fd;
    return 1;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    return 0;
}

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = ks_heap_start;
    if (incr < 0 || ks_heap_end - brk < incr) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}

void _exit(int status)
{
    ks_semihost_exit(status);
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}

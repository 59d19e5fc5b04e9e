/* SPDX-License-Identifier: MIT
 *
 * kernel-host.c -- the reference guest's `kernel` mode (init/kernel-load.h)
 * as an ordinary Linux program on the host, with glibc.  It prints the same
 * "KERNEL-OK workers=6 rounds=N checksum=0x........" line as the guest booted
 * with `initmode=kernel kerneliter=N`, whatever the host's scheduler does:
 * the checksum does not depend on scheduling order.
 *
 *   gcc -O2 -Wall -o kernel-host tools/guest/kernel-host.c && ./kernel-host [N]
 *
 * N defaults to the guest's default (KL_ROUNDS).  Exit status 0 on KERNEL-OK.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *hex8(uint32_t v)
{
	static char buf[9];

	snprintf(buf, sizeof(buf), "%08x", v);
	return buf;
}

static int kl_pipe(int fds[2])
{
	return pipe(fds);
}

static int kl_on_sigusr1(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGUSR1, &sa, 0);
}

static long kl_futex(uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, word, op, val, 0, 0, 0);
}

static int kl_wait(int pid, int *exit_code, struct rusage *ru)
{
	int status = 0, ret;

	do
		ret = wait4(pid, &status, 0, ru);
	while (ret < 0 && errno == EINTR);
	if (ret >= 0)
		*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	return ret;
}

#include "init/kernel-load.h"

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : KL_ROUNDS;

	if (rounds <= 0) {
		fprintf(stderr, "usage: %s [ROUNDS]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, 0, _IONBF, 0);	/* no buffered output duplicated by fork */
	return run_kernel_load(rounds) ? 0 : 1;
}

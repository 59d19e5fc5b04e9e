/* SPDX-License-Identifier: MIT
 *
 * kernel-load.h -- the `kernel` mode of the reference guest's /init: a workload
 * that spends its time in the kernel the way a busy system does.
 *
 * KL_WORKERS processes, forked from the caller, run the same number of rounds
 * (kerneliter=N, default KL_ROUNDS).  A round:
 *   - computes for a while in user mode (~0.5 M instructions), so that the
 *     workers compete for the one hart and the timer tick preempts them;
 *   - passes a 512-byte message round a ring of pipes (worker w reads from
 *     ring[w], writes to ring[w+1]);
 *   - sends SIGUSR1, with a payload in shared memory, to the next worker
 *     (a handshake flag keeps one signal in flight per target, so none is
 *     lost to coalescing), yielding with sched_yield while the last one is
 *     still being handled;
 *   - adds to shared counters with AMOs (__atomic_fetch_add: amoadd.w) and
 *     with compare-and-swap loops (__atomic_compare_exchange_n: lr.w/sc.w);
 *   - updates a two-word sum under a futex mutex (futex wait/wake on
 *     MAP_SHARED anonymous memory);
 *   - maps fresh anonymous memory, touches every page, reads it back and
 *     unmaps it (demand-zero page faults);
 *   - waits at a futex barrier for the other workers.
 * Each worker reports a hash of what it saw through a pipe to the caller.
 *
 * The checksum does not depend on the order the kernel schedules the workers
 * in: the ring is a Kahn network (every read blocks, so each worker sees the
 * same messages in the same order whatever the interleaving), the signal
 * handshake delivers every payload exactly once, and the per-worker hashes
 * and the shared totals are combined with commutative operations only.  The
 * totals are also checked against their expected values (a lost AMO, a
 * broken LR/SC or a mutex that let two holders in fails the run).
 *
 * This file is also compiled with the host's gcc as an ordinary Linux program
 * (tools/guest/kernel-host.c), which must print the same checksum.  The
 * includer provides, before including it:
 *   printf, fork, read, write, close, kill, getpid, sched_yield, mmap,
 *   munmap, exit, memset, errno/EINTR, uint32_t, struct rusage, FUTEX_WAIT/WAKE, and
 *   const char *hex8(uint32_t v);      8 lower-case hex digits
 *   int  kl_pipe(int fds[2]);
 *   int  kl_on_sigusr1(void (*handler)(int));      SA_RESTART, 0 on success
 *   long kl_futex(uint32_t *word, int op, uint32_t val);
 *        FUTEX_WAIT (no timeout) or FUTEX_WAKE, shared (not private): the
 *        words live in MAP_SHARED memory that several processes map
 *   int  kl_wait(int pid, int *exit_code, struct rusage *ru);
 *        returns pid; exit_code: the exit status, or -signal
 */
#ifndef KERNEL_LOAD_H
#define KERNEL_LOAD_H

#define KL_WORKERS 6
#define KL_ROUNDS 30			/* default; kerneliter=N overrides */
#define KL_MSG_WORDS 128		/* 512-byte ring messages */
#define KL_COMPUTE_STEPS 40000		/* user-mode work per round: ~0.5 M instructions */
#define KL_BUF_WORDS 4096		/* 16 KiB private buffer (copy-on-write after fork) */
#define KL_AMO_PER_ROUND 64
#define KL_CAS_PER_ROUND 64
#define KL_LOCKS_PER_ROUND 16
#define KL_FAULT_PAGES 32		/* 128 KiB mapped, touched, unmapped per round */
#define KL_PAGE 4096

/* One page of MAP_SHARED anonymous memory, shared by all workers. */
struct kl_shared {
	uint32_t amo_sum;		/* amoadd.w */
	uint32_t amo_xor;		/* amoxor.w */
	uint32_t cas_sum;		/* lr.w/sc.w loops */
	uint32_t cas_xor;
	uint32_t mutex;			/* 0 free, 1 locked, 2 locked with waiters */
	uint32_t locked_lo, locked_hi;	/* a 64-bit sum, updated under the mutex */
	uint32_t locked_ops;
	uint32_t bar_count, bar_gen;	/* futex barrier */
	uint32_t pid[KL_WORKERS];
	uint32_t sig_flag[KL_WORKERS];	/* 1 while a SIGUSR1 to worker w is in flight */
	uint32_t sig_payload[KL_WORKERS];
};

static struct kl_shared *kl_sh;
static int kl_self;
static volatile uint32_t kl_sig_count, kl_sig_sum;

static uint32_t kl_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t kl_hash(uint32_t h, uint32_t v)
{
	return kl_mix(h ^ v) + 0x9e3779b9u;
}

/* --- shared-memory primitives ------------------------------------------- */

/* A preemption between the load and the swap (another worker's update)
 * or between lr.w and sc.w (the kernel drops the reservation on every trap
 * return) makes the swap fail and the loop go round again. */
static void kl_cas_add(uint32_t *p, uint32_t v)
{
	uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(p, &old, old + v, 1,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
}

static void kl_cas_xor(uint32_t *p, uint32_t v)
{
	uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(p, &old, old ^ v, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
}

/* Drepper's futex mutex ("Futexes are tricky", mutex3) */
static void kl_lock(uint32_t *m)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(m, &c, 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		kl_futex(m, FUTEX_WAIT, 2);
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	}
}

static void kl_unlock(uint32_t *m)
{
	if (__atomic_fetch_sub(m, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(m, 0, __ATOMIC_RELEASE);
		kl_futex(m, FUTEX_WAKE, 1);
	}
}

static void kl_barrier(void)
{
	uint32_t gen = __atomic_load_n(&kl_sh->bar_gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&kl_sh->bar_count, 1, __ATOMIC_ACQ_REL) == KL_WORKERS) {
		__atomic_store_n(&kl_sh->bar_count, 0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&kl_sh->bar_gen, 1, __ATOMIC_RELEASE);
		kl_futex(&kl_sh->bar_gen, FUTEX_WAKE, KL_WORKERS);
		return;
	}
	while (__atomic_load_n(&kl_sh->bar_gen, __ATOMIC_ACQUIRE) == gen)
		kl_futex(&kl_sh->bar_gen, FUTEX_WAIT, gen);
}

/* --- pipes and signals -------------------------------------------------- */

static int kl_io(int fd, void *buf, int len, int writing)
{
	char *p = buf;

	while (len > 0) {
		int n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void kl_on_usr1(int sig)
{
	(void)sig;
	kl_sig_sum += __atomic_load_n(&kl_sh->sig_payload[kl_self], __ATOMIC_ACQUIRE);
	kl_sig_count++;
	__atomic_store_n(&kl_sh->sig_flag[kl_self], 0, __ATOMIC_RELEASE);
}

static void kl_signal(int target, uint32_t payload)
{
	uint32_t zero = 0;

	while (!__atomic_compare_exchange_n(&kl_sh->sig_flag[target], &zero, 1, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		zero = 0;
		sched_yield();	/* the target has not handled the last one yet */
	}
	__atomic_store_n(&kl_sh->sig_payload[target], payload, __ATOMIC_RELEASE);
	kill((int)kl_sh->pid[target], SIGUSR1);
}

/* --- one worker ---------------------------------------------------------- */

static uint32_t kl_buf[KL_BUF_WORDS];

static uint32_t kl_compute(uint32_t seed)
{
	uint32_t x = seed | 1, acc = 0;
	int i;

	for (i = 0; i < KL_COMPUTE_STEPS; i++) {
		uint32_t *p;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p = &kl_buf[x % KL_BUF_WORDS];
		*p = (*p + x) ^ (acc >> 3);
		acc = acc * 31 + *p;
	}
	return acc;
}

static uint32_t kl_fault_pages(int w, int r)
{
	uint32_t *m = mmap(0, KL_FAULT_PAGES * KL_PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t h = 0, i, words = KL_PAGE / 4;

	if (m == MAP_FAILED)
		return 0xdead0000u;
	for (i = 0; i < KL_FAULT_PAGES; i++) {
		m[i * words + (i * 7 + r) % words] = kl_mix(w * 1000 + r * 37 + i);
		m[i * words + words - 1] = i;
	}
	for (i = 0; i < KL_FAULT_PAGES * words; i += 61)
		h = kl_hash(h, m[i]);	/* mostly zeros the kernel handed out */
	for (i = 0; i < KL_FAULT_PAGES; i++)
		h = kl_hash(h, m[i * words + (i * 7 + r) % words] + m[i * words + words - 1]);
	munmap(m, KL_FAULT_PAGES * KL_PAGE);
	return h;
}

struct kl_report {
	uint32_t worker, hash, sig_count, sig_sum, fail;
};

static void kl_worker(int w, int rounds, int in_fd, int out_fd, int report_fd)
{
	uint32_t msg[KL_MSG_WORDS];
	struct kl_report rep;
	uint32_t h = 0x1234567u * (uint32_t)(w + 1);
	int r, i;

	/* no signal may come before the handler knows which worker it runs in,
	 * nor be sent before every pid is known */
	kl_self = w;
	kl_sh->pid[w] = (uint32_t)getpid();
	rep.fail = 0;
	kl_barrier();
	/* each worker puts one message in the ring to start with */
	for (i = 0; i < KL_MSG_WORDS; i++)
		msg[i] = kl_mix((uint32_t)(w * KL_MSG_WORDS + i));
	if (kl_io(out_fd, msg, sizeof(msg), 1) < 0)
		rep.fail |= 1;
	for (r = 0; r < rounds; r++) {
		h = kl_hash(h, kl_compute(kl_mix((uint32_t)(w * 7919 + r))));

		if (kl_io(in_fd, msg, sizeof(msg), 0) < 0)
			rep.fail |= 2;
		for (i = 0; i < KL_MSG_WORDS; i++) {
			h = kl_hash(h, msg[i]);
			msg[i] = kl_mix(msg[i] + (uint32_t)(w * 131 + r));
		}
		if (r + 1 < rounds && kl_io(out_fd, msg, sizeof(msg), 1) < 0)
			rep.fail |= 4;

		kl_signal((w + 1) % KL_WORKERS, kl_mix((uint32_t)(w * 65537 + r)));

		for (i = 0; i < KL_AMO_PER_ROUND; i++) {
			__atomic_fetch_add(&kl_sh->amo_sum, (uint32_t)(w + i), __ATOMIC_RELAXED);
			__atomic_fetch_xor(&kl_sh->amo_xor, kl_mix((uint32_t)(w * 4096 + r * 64 + i)), __ATOMIC_RELAXED);
		}
		for (i = 0; i < KL_CAS_PER_ROUND; i++) {
			kl_cas_add(&kl_sh->cas_sum, (uint32_t)(r * 3 + i + w));
			kl_cas_xor(&kl_sh->cas_xor, kl_mix((uint32_t)(r * 64 + i + w * 9973)));
		}
		for (i = 0; i < KL_LOCKS_PER_ROUND; i++) {
			uint32_t v = kl_mix((uint32_t)(w * 100003 + r * 17 + i)), lo;

			kl_lock(&kl_sh->mutex);
			lo = kl_sh->locked_lo;
			if (i == 0)
				sched_yield();	/* hold it across a reschedule: waiters sleep on the futex */
			kl_sh->locked_lo = lo + v;
			kl_sh->locked_hi += (lo + v) < lo;
			kl_sh->locked_ops++;
			kl_unlock(&kl_sh->mutex);
		}

		h = kl_hash(h, kl_fault_pages(w, r));
		kl_barrier();
	}
	/* every signal sent to this worker was sent before the last barrier and
	 * is handled before it returns to user mode; wait for the flag anyway */
	while (__atomic_load_n(&kl_sh->sig_flag[w], __ATOMIC_ACQUIRE))
		sched_yield();
	if (kl_sig_count != (uint32_t)rounds)
		rep.fail |= 8;
	rep.worker = w;
	rep.hash = h;
	rep.sig_count = kl_sig_count;
	rep.sig_sum = kl_sig_sum;
	if (kl_io(report_fd, &rep, sizeof(rep), 1) < 0)
		exit(3);
	exit(rep.fail ? 2 : 0);
}

/* Runs the workload; prints "KERNEL-OK ..." (or "KERNEL-FAIL: ...") and
 * returns the checksum, or 0 on failure. */
static uint32_t run_kernel_load(int rounds)
{
	int ring[KL_WORKERS][2], report[2], pids[KL_WORKERS];
	long nvcsw = 0, nivcsw = 0, minflt = 0;
	uint32_t combined = 0, combined_sig = 0, sig_total = 0, want, checksum;
	uint32_t want_amo_sum = 0, want_amo_xor = 0, want_cas_sum = 0, want_cas_xor = 0;
	uint32_t want_locked_lo = 0, want_locked_hi = 0;
	int w, r, i, fail = 0;

	kl_sh = mmap(0, KL_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kl_sh == MAP_FAILED) {
		printf("KERNEL-FAIL: mmap MAP_SHARED\n");
		return 0;
	}
	for (w = 0; w < KL_WORKERS; w++)
		if (kl_pipe(ring[w]) < 0) {
			printf("KERNEL-FAIL: pipe\n");
			return 0;
		}
	if (kl_pipe(report) < 0 || kl_on_sigusr1(kl_on_usr1) < 0) {
		printf("KERNEL-FAIL: pipe or sigaction\n");
		return 0;
	}
	for (w = 0; w < KL_WORKERS; w++) {
		int pid = fork();

		if (pid == 0) {
			for (i = 0; i < KL_WORKERS; i++) {
				if (i != w)
					close(ring[i][0]);
				if (i != (w + 1) % KL_WORKERS)
					close(ring[i][1]);
			}
			close(report[0]);
			kl_worker(w, rounds, ring[w][0], ring[(w + 1) % KL_WORKERS][1], report[1]);
		}
		if (pid < 0) {
			printf("KERNEL-FAIL: fork\n");
			return 0;
		}
		pids[w] = pid;
	}
	for (w = 0; w < KL_WORKERS; w++) {
		close(ring[w][0]);
		close(ring[w][1]);
	}
	close(report[1]);

	/* reports arrive in any order: combine them commutatively */
	for (i = 0; i < KL_WORKERS; i++) {
		struct kl_report rep;

		if (kl_io(report[0], &rep, sizeof(rep), 0) < 0 || rep.worker >= KL_WORKERS) {
			fail = 1;
			break;
		}
		combined += kl_mix(rep.hash ^ (rep.worker * 0x9e3779b9u));
		combined_sig += kl_mix(rep.sig_sum + rep.worker);
		sig_total += rep.sig_count;
		if (rep.fail) {
			printf("KERNEL-FAIL: worker %d failed (0x%x)\n", (int)rep.worker, (unsigned)rep.fail);
			fail = 1;
		}
	}
	close(report[0]);
	for (w = 0; w < KL_WORKERS; w++) {
		struct rusage ru;
		int code = -1;

		memset(&ru, 0, sizeof(ru));
		if (kl_wait(pids[w], &code, &ru) != pids[w] || code != 0) {
			printf("KERNEL-FAIL: worker %d exit %d\n", w, code);
			fail = 1;
		}
		nvcsw += ru.ru_nvcsw;	/* voluntary context switches */
		nivcsw += ru.ru_nivcsw;	/* involuntary: preempted */
		minflt += ru.ru_minflt;
	}

	/* what the shared totals must be */
	for (w = 0; w < KL_WORKERS; w++)
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < KL_AMO_PER_ROUND; i++) {
				want_amo_sum += (uint32_t)(w + i);
				want_amo_xor ^= kl_mix((uint32_t)(w * 4096 + r * 64 + i));
			}
			for (i = 0; i < KL_CAS_PER_ROUND; i++) {
				want_cas_sum += (uint32_t)(r * 3 + i + w);
				want_cas_xor ^= kl_mix((uint32_t)(r * 64 + i + w * 9973));
			}
			for (i = 0; i < KL_LOCKS_PER_ROUND; i++) {
				uint32_t v = kl_mix((uint32_t)(w * 100003 + r * 17 + i));

				want_locked_lo += v;
				want_locked_hi += want_locked_lo < v;
			}
		}
	want = (uint32_t)(KL_WORKERS * rounds * KL_LOCKS_PER_ROUND);
	if (kl_sh->amo_sum != want_amo_sum || kl_sh->amo_xor != want_amo_xor) {
		printf("KERNEL-FAIL: AMO totals 0x%x 0x%x\n", kl_sh->amo_sum, kl_sh->amo_xor);
		fail = 1;
	}
	if (kl_sh->cas_sum != want_cas_sum || kl_sh->cas_xor != want_cas_xor) {
		printf("KERNEL-FAIL: LR/SC totals 0x%x 0x%x\n", kl_sh->cas_sum, kl_sh->cas_xor);
		fail = 1;
	}
	if (kl_sh->locked_lo != want_locked_lo || kl_sh->locked_hi != want_locked_hi ||
	    kl_sh->locked_ops != want || kl_sh->mutex != 0) {
		printf("KERNEL-FAIL: mutex-protected sum 0x%x:%x after %u updates\n",
		       kl_sh->locked_hi, kl_sh->locked_lo, kl_sh->locked_ops);
		fail = 1;
	}
	if (sig_total != (uint32_t)(KL_WORKERS * rounds)) {
		printf("KERNEL-FAIL: %u signals handled\n", sig_total);
		fail = 1;
	}
	printf("kernel: %d workers x %d rounds; context switches %ld voluntary, %ld preempted; %ld minor faults\n",
	       KL_WORKERS, rounds, nvcsw, nivcsw, minflt);
	if (fail)
		return 0;
	checksum = kl_hash(combined, combined_sig);
	checksum = kl_hash(checksum, kl_sh->amo_sum);
	checksum = kl_hash(checksum, kl_sh->amo_xor);
	checksum = kl_hash(checksum, kl_sh->cas_sum);
	checksum = kl_hash(checksum, kl_sh->cas_xor);
	checksum = kl_hash(checksum, kl_sh->locked_lo);
	checksum = kl_hash(checksum, kl_sh->locked_hi);
	checksum = kl_hash(checksum, sig_total);
	printf("KERNEL-OK workers=%d rounds=%d checksum=0x%s\n", KL_WORKERS, rounds,
	       hex8(checksum));
	munmap(kl_sh, KL_PAGE);
	return checksum;
}

#endif /* KERNEL_LOAD_H */

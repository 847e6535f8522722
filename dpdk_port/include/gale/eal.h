/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL bootstrap for gale programs.
 *
 * DPDK convention: `prog [EAL args] -- [program args]`. When the user gives EAL arguments they are passed to
 * rte_eal_init untouched. A program may also take its own options alone, without "--" (app_args_only).
 * When there are none, gale picks a safe embedded default and says so on stderr:
 * no PCI probing, the caller's default virtual device(s), hugepages (`--in-memory`, no files left behind) when
 * enough free 2 MiB pages are mounted, otherwise `--no-huge -m <MiB>` with a unique `--file-prefix` (the two do
 * not combine in DPDK 22.11).
 */
#ifndef GALE_EAL_H
#define GALE_EAL_H

#include <stdbool.h>
#include <stdint.h>

/** What a program wants when the user gave no EAL arguments. */
struct gale_eal_defaults {
	const char *lcores;       /**< `-l` list, e.g. "0" or "0-1"; NULL = "0". */
	const char *const *vdevs; /**< NULL-terminated `--vdev` values; NULL = none. */
	unsigned int mem_mb;      /**< memory for the no-huge fallback (and the hugepage need); 0 = 512. */
	const char *log_level;    /**< `--log-level` value; NULL = "lib.eal:warning". */
	bool quiet;               /**< do not announce the chosen defaults on stderr. */
	bool no_huge;             /**< use the no-huge fallback even when hugepages are free. */
	/**
	 * With no "--" anywhere in argv, every argument is the program's own (`prog --target X` rather than
	 * `prog -- --target X`) and the EAL gets these defaults; with a "--", the usual convention.
	 */
	bool app_args_only;
};

/** What gale_eal_init decided. */
struct gale_eal_info {
	bool defaults_used; /**< no EAL args were given; the defaults above were applied. */
	bool huge;          /**< hugepages are in use (else --no-huge). */
	char file_prefix[64]; /**< the --file-prefix used by the no-huge fallback, "" otherwise. */
};

/**
 * Number of free 2 MiB hugepages usable by DPDK: free pages in /proc/meminfo, 0 when no hugetlbfs is mounted.
 */
unsigned int
gale_eal_hugepages_free(void);

/**
 * Initialise the EAL from the program's arguments (or the defaults, see above).
 * Returns what rte_eal_init returns: the program's own arguments are then `argc - ret, argv + ret`, with
 * argv[ret] replaced by the program name (so getopt can run on them as is); or a negative errno.
 */
int
gale_eal_init(int argc, char **argv, const struct gale_eal_defaults *def, struct gale_eal_info *info);

/**
 * rte_eal_cleanup, then remove the EAL's runtime directory (/var/run/dpdk/<prefix>) when its prefix starts with
 * "gale-": a no-huge run has no --in-memory, and DPDK 22.11 leaves that directory behind. Returns what
 * rte_eal_cleanup returned.
 */
int
gale_eal_cleanup(void);

#endif /* GALE_EAL_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL for tests: `--no-pci` always; `--in-memory` on hugepages when enough are free, else `--no-huge -m 512`
 * with a file prefix unique to the process, so that any number of tests can run at once.
 * GALE_TEST_NO_HUGE=1 in the environment forces the no-huge path (the fixture tests use it to cover both).
 */
#ifndef GALE_TEST_EAL_H
#define GALE_TEST_EAL_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Initialise the EAL once for this test process with `lcores` ("0" if NULL) and the NULL-terminated vdev list
 * (may be NULL). Returns 0, or a negative errno after printing why.
 */
int
gale_test_eal_init(const char *lcores, const char *const *vdevs);

/** True when the EAL was brought up on hugepages. */
bool
gale_test_eal_huge(void);

/**
 * Initialise the EAL once for this process with nb_lcores lcores floating over every CPU there is
 * (--lcores=(0-N)@(0-CPUS): a runtime's control thread and workers on a machine with fewer cores),
 * --no-huge -m 512, a file prefix gale-<name>-<pid>, and one vdev (may be NULL). 0 or a negative errno
 * after printing why.
 */
int
gale_test_eal_init_float(const char *name, unsigned int nb_lcores, const char *vdev);

/**
 * Send one command (e.g. "/gale/stacks,1") on the EAL's telemetry socket, as dpdk-telemetry.py does, and put the
 * JSON reply (NUL-terminated) in out. 0, or -1 when the socket cannot be reached or says nothing within 2 s.
 */
int
gale_test_telemetry_query(const char *cmd, char *out, size_t len);

#endif /* GALE_TEST_EAL_H */

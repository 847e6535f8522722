/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpdk_port: EAL bootstrap and port setup, on a net_ring port (its tx ring is its rx ring, so what is sent
 * comes back). Built twice: once taking hugepages when free, once forced to --no-huge (GALE_TEST_FORCE_NO_HUGE),
 * so both start-up paths are covered on every machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/eal.h>
#include <gale/port.h>

#include "gale_test_eal.h"

static const char *const vdevs[] = { "net_ring0", "net_ring1", NULL };

static int
setup(void **state)
{
	(void)state;
#ifdef GALE_TEST_FORCE_NO_HUGE
	setenv("GALE_TEST_NO_HUGE", "1", 1);
#endif
	return gale_test_eal_init("0", vdevs) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return gale_eal_cleanup();
}

static void
test_eal_mode(void **state)
{
	(void)state;
	assert_int_equal(rte_eal_has_hugepages() ? 1 : 0, gale_test_eal_huge() ? 1 : 0);
#ifdef GALE_TEST_FORCE_NO_HUGE
	assert_false(gale_test_eal_huge());
#endif
}

static void
test_port_lookup(void **state)
{
	uint16_t id = 99;

	(void)state;
	assert_int_equal(gale_port_lookup("net_ring0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(gale_port_lookup("0", &id), 0);
	assert_int_equal(gale_port_lookup("net_nosuch0", &id), -ENODEV);
	assert_int_equal(gale_port_lookup("7", &id), -ENODEV);
	assert_int_equal(gale_port_lookup("1x", &id), -ENODEV);
	assert_int_equal(gale_port_lookup("", &id), -ENODEV);
}

static void
test_port_loop(void **state)
{
	const struct gale_port_conf conf = { .nb_queues = 1, .nb_rxd = 256, .nb_txd = 256 };
	struct gale_port port;
	struct rte_mbuf *tx[8], *rx[8];
	unsigned int full, i;
	uint16_t n;

	(void)state;
	assert_int_equal(gale_port_setup(&port, 0, &conf), 0);
	assert_non_null(port.pool);
	assert_true(port.link_up);
	full = rte_mempool_avail_count(port.pool);
	for (i = 0; i < 8; i++) {
		tx[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(tx[i]);
		memset(rte_pktmbuf_append(tx[i], 64), (int)i, 64);
	}
	assert_int_equal(rte_eth_tx_burst(port.port_id, 0, tx, 8), 8);
	n = rte_eth_rx_burst(port.port_id, 0, rx, 8);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(rte_pktmbuf_pkt_len(rx[i]), 64);
		assert_int_equal(*rte_pktmbuf_mtod(rx[i], uint8_t *), i);
	}
	rte_pktmbuf_free_bulk(rx, n);
	assert_int_equal(rte_mempool_avail_count(port.pool), full);
	gale_port_close(&port);
	assert_null(port.pool);
	gale_port_close(&port); /* closing twice is harmless */
	gale_port_close(NULL);
}

static void
test_port_bad_args(void **state)
{
	const struct gale_port_conf too_many = { .nb_queues = 4096 };
	struct gale_port port;
	uint16_t id;

	(void)state;
	assert_int_equal(gale_port_lookup("net_ring1", &id), 0);
	assert_int_equal(gale_port_setup(NULL, id, NULL), -EINVAL);
	assert_int_equal(gale_port_setup(&port, 42, NULL), -ENODEV);
	assert_int_equal(gale_port_setup(&port, id, &too_many), -EINVAL);
	assert_null(port.pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eal_mode),
		cmocka_unit_test(test_port_lookup),
		cmocka_unit_test(test_port_loop),
		cmocka_unit_test(test_port_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telemetry: /gale/... commands on DPDK's rte_telemetry socket (readable with dpdk-telemetry.py).
 *
 *   /gale/runtime         phase, workers, snapshot version, live snapshots, last drain time
 *   /gale/workers[,<id>]  per-worker loop statistics (gale_worker_stats), busy percentage
 *   /gale/ports           per-port ethdev statistics and pool occupancy
 *   /gale/rings           per-worker control-ring depths (down, up), acked version, tx queue,
 *                         software-steering ring depth and counters (ports that steer)
 *   /gale/counters        counters the workers sent up as deltas (non-zero ones), by id
 *   /gale/rpc/server      per RPC server (by creation order): calls, replies, exceptions by kind,
 *                         bad frames, deadlines exceeded, late (dropped) replies, connections,
 *                         in flight (struct gale_rpc_stats)
 *   /gale/rpc/client      per RPC client: calls, completed, failed, timeouts, exceptions, late
 *                         replies discarded, bad replies, connections, endpoint faults and
 *                         failovers, in flight (struct gale_rpc_client_stats)
 *   /gale/rpc/remote      per blocking-call handle (gale/rpc_remote.h): calls started,
 *                         completed, failed, refused, cancelled, waits expired, in flight
 *
 * rte_telemetry callbacks take no user argument and cannot be unregistered in DPDK 22.11, so the
 * commands are registered once per process and read whichever runtime is attached (the last one
 * created with telemetry on); RPC servers and clients are listed from their create to their free,
 * whether or not a runtime has telemetry on. The callbacks run on the telemetry thread; a mutex
 * (off the data path: only telemetry and create/free take it) keeps a runtime from being freed
 * under a query. Worker statistics are single-writer words read with relaxed loads
 * (runtime_private.h), so a reply is a near-instant view, not an atomic snapshot.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include <gale/port.h>
#include <gale/rpc.h>
#include <gale/rpc_remote.h>
#include <gale/steer.h>

#include "runtime_private.h"

static pthread_mutex_t gale__tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gale_runtime *gale__tel_rt;
static bool gale__tel_registered;

/* The RPC servers and clients alive, in creation order (a slot is NULL once freed). */
struct gale__tel_list {
	void **v;
	unsigned int n, cap;
};
static struct gale__tel_list gale__tel_servers, gale__tel_clients, gale__tel_remotes;

static const char *const gale__phase_names[] = {
	[GALE_RUNTIME_CREATED] = "created",   [GALE_RUNTIME_RUNNING] = "running",
	[GALE_RUNTIME_DRAINING] = "draining", [GALE_RUNTIME_STOPPING] = "stopping",
	[GALE_RUNTIME_STOPPED] = "stopped",
};

static int
gale__tel_runtime(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gale_runtime *rt;
	int phase;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&gale__tel_lock);
	rt = gale__tel_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	phase = atomic_load_explicit(&rt->phase, memory_order_relaxed);
	rte_tel_data_add_dict_string(d, "phase", gale__phase_names[phase]);
	rte_tel_data_add_dict_int(d, "workers", (int)rt->nb_workers);
	rte_tel_data_add_dict_int(d, "ports", rt->nb_ports);
	rte_tel_data_add_dict_u64(d, "snapshot_version", gale_ctl_version(rt->ctl));
	rte_tel_data_add_dict_u64(d, "snapshots_live", gale_ctl_live(rt->ctl));
	rte_tel_data_add_dict_u64(d, "drain_us", rt->drain_us);
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

static void
gale__tel_worker(struct rte_tel_data *d, const struct gale_worker *w)
{
	struct gale_worker_stats st;
	uint64_t total;

	gale_worker_stats_get(w, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "lcore", (int)w->lcore);
	rte_tel_data_add_dict_u64(d, "iterations", st.iterations);
	rte_tel_data_add_dict_u64(d, "busy_cycles", st.busy_cycles);
	rte_tel_data_add_dict_u64(d, "idle_cycles", st.idle_cycles);
	total = st.busy_cycles + st.idle_cycles;
	rte_tel_data_add_dict_u64(d, "busy_percent", total != 0 ? st.busy_cycles * 100 / total : 0);
	rte_tel_data_add_dict_u64(d, "rx_pkts", st.rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bursts", st.rx_bursts);
	rte_tel_data_add_dict_u64(d, "rx_steered", st.rx_steered);
	rte_tel_data_add_dict_u64(d, "tx_pkts", st.tx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_dropped", st.tx_dropped);
	rte_tel_data_add_dict_u64(d, "tx_queued", st.tx_queued);
	rte_tel_data_add_dict_u64(d, "timers_run", st.timers_run);
	rte_tel_data_add_dict_u64(d, "ctl_msgs", st.ctl_msgs);
	rte_tel_data_add_dict_u64(d, "work_units", st.work_units);
	rte_tel_data_add_dict_u64(d, "sleeps", st.sleeps);
}

static int
gale__tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *c;
	struct gale_runtime *rt;
	unsigned long id;
	char key[16], *end;
	unsigned int k;

	(void)cmd;
	pthread_mutex_lock(&gale__tel_lock);
	rt = gale__tel_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__tel_lock);
		return -ENODEV;
	}
	if (params != NULL && *params != '\0') {
		id = strtoul(params, &end, 10);
		if (*end != '\0' || id >= rt->nb_workers) {
			pthread_mutex_unlock(&gale__tel_lock);
			return -EINVAL;
		}
		gale__tel_worker(d, &rt->workers[id]);
		pthread_mutex_unlock(&gale__tel_lock);
		return 0;
	}
	rte_tel_data_start_dict(d);
	for (k = 0; k < rt->nb_workers; k++) {
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		gale__tel_worker(c, &rt->workers[k]);
		snprintf(key, sizeof(key), "%u", k);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

static int
gale__tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_eth_stats es;
	struct gale_runtime *rt;
	struct rte_tel_data *c;
	struct gale_port *port;
	uint16_t p;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&gale__tel_lock);
	rt = gale__tel_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (p = 0; p < rt->nb_ports; p++) {
		port = rt->ports[p];
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_int(c, "port_id", port->port_id);
		rte_tel_data_add_dict_int(c, "queues", port->nb_queues);
		if (rte_eth_stats_get(port->port_id, &es) == 0) {
			rte_tel_data_add_dict_u64(c, "ipackets", es.ipackets);
			rte_tel_data_add_dict_u64(c, "opackets", es.opackets);
			rte_tel_data_add_dict_u64(c, "ibytes", es.ibytes);
			rte_tel_data_add_dict_u64(c, "obytes", es.obytes);
			rte_tel_data_add_dict_u64(c, "imissed", es.imissed);
			rte_tel_data_add_dict_u64(c, "ierrors", es.ierrors);
			rte_tel_data_add_dict_u64(c, "oerrors", es.oerrors);
			rte_tel_data_add_dict_u64(c, "rx_nombuf", es.rx_nombuf);
		}
		if (port->pool != NULL) {
			rte_tel_data_add_dict_u64(c, "pool_size", port->pool->size);
			rte_tel_data_add_dict_u64(c, "pool_avail",
			                          rte_mempool_avail_count(port->pool));
		}
		rte_tel_data_add_dict_container(d, port->name[0] != '\0' ? port->name : "port", c,
		                                0);
	}
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

/* Software steering of worker k summed over the ports that have it: inbound ring depth, counters.
 */
static void
gale__tel_steer(struct rte_tel_data *c, const struct gale_runtime *rt, unsigned int k)
{
	struct gale_steer_stats ss, sum = { 0 };
	uint64_t pending = 0;
	bool any = false;

	for (uint16_t p = 0; p < rt->nb_ports; p++) {
		if (rt->steers[p] == NULL ||
		    gale_steer_stats_get(rt->steers[p], (uint16_t)k, &ss) != 0)
			continue;
		any = true;
		pending += gale_steer_pending(rt->steers[p], (uint16_t)k);
		sum.forwarded += ss.forwarded;
		sum.fwd_dropped += ss.fwd_dropped;
		sum.drained += ss.drained;
	}
	if (!any)
		return;
	rte_tel_data_add_dict_u64(c, "steer_pending", pending);
	rte_tel_data_add_dict_u64(c, "steer_forwarded", sum.forwarded);
	rte_tel_data_add_dict_u64(c, "steer_fwd_dropped", sum.fwd_dropped);
	rte_tel_data_add_dict_u64(c, "steer_drained", sum.drained);
}

static int
gale__tel_rings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gale_runtime *rt;
	struct rte_tel_data *c;
	unsigned int k, down, up;
	char key[16];

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&gale__tel_lock);
	rt = gale__tel_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (k = 0; k < rt->nb_workers; k++) {
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		gale_ctl_depths(rt->ctl, k, &down, &up);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "ctl_down", down);
		rte_tel_data_add_dict_u64(c, "ctl_up", up);
		rte_tel_data_add_dict_u64(c, "ctl_acked", gale_ctl_acked(rt->ctl, k));
		rte_tel_data_add_dict_u64(c, "tx_queued",
		                          gale__stat_read(&rt->workers[k].st.tx_queued));
		gale__tel_steer(c, rt, k);
		snprintf(key, sizeof(key), "%u", k);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

static int
gale__tel_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gale_runtime *rt;
	uint64_t v;
	char key[16];

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&gale__tel_lock);
	rt = gale__tel_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (unsigned int c = 0; c < GALE_RUNTIME_COUNTERS; c++) {
		v = gale_runtime_counter(rt, c);
		if (v == 0)
			continue;
		snprintf(key, sizeof(key), "%u", c);
		rte_tel_data_add_dict_u64(d, key, v);
	}
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

/* Counter names and offsets, from the stats structs (every field a uint64_t). */
struct gale__tel_field {
	const char *name;
	size_t off;
};

#define GALE__TF(type, f) { #f, offsetof(type, f) }
static const struct gale__tel_field gale__tel_server_fields[] = {
	GALE__TF(struct gale_rpc_stats, conns_accepted),
	GALE__TF(struct gale_rpc_stats, conns_closed),
	GALE__TF(struct gale_rpc_stats, conns_open),
	GALE__TF(struct gale_rpc_stats, requests),
	GALE__TF(struct gale_rpc_stats, replies),
	GALE__TF(struct gale_rpc_stats, oneways),
	GALE__TF(struct gale_rpc_stats, in_flight),
	GALE__TF(struct gale_rpc_stats, ex_unknown_method),
	GALE__TF(struct gale_rpc_stats, ex_protocol),
	GALE__TF(struct gale_rpc_stats, ex_bad_type),
	GALE__TF(struct gale_rpc_stats, ex_handler),
	GALE__TF(struct gale_rpc_stats, ex_encode),
	GALE__TF(struct gale_rpc_stats, bad_frames),
	GALE__TF(struct gale_rpc_stats, idle_closed),
	GALE__TF(struct gale_rpc_stats, send_failed),
	GALE__TF(struct gale_rpc_stats, tx_paused),
	GALE__TF(struct gale_rpc_stats, deferred),
	GALE__TF(struct gale_rpc_stats, deferred_dropped),
	GALE__TF(struct gale_rpc_stats, deadline_exceeded),
	GALE__TF(struct gale_rpc_stats, arena_high),
};
static const struct gale__tel_field gale__tel_client_fields[] = {
	GALE__TF(struct gale_rpc_client_stats, calls),
	GALE__TF(struct gale_rpc_client_stats, completed),
	GALE__TF(struct gale_rpc_client_stats, failed),
	GALE__TF(struct gale_rpc_client_stats, in_flight),
	GALE__TF(struct gale_rpc_client_stats, timeouts),
	GALE__TF(struct gale_rpc_client_stats, app_ex),
	GALE__TF(struct gale_rpc_client_stats, late_replies),
	GALE__TF(struct gale_rpc_client_stats, bad_replies),
	GALE__TF(struct gale_rpc_client_stats, conns_opened),
	GALE__TF(struct gale_rpc_client_stats, conns_closed),
	GALE__TF(struct gale_rpc_client_stats, conns_open),
	GALE__TF(struct gale_rpc_client_stats, conns_failed),
	GALE__TF(struct gale_rpc_client_stats, ep_down),
	GALE__TF(struct gale_rpc_client_stats, failovers),
	GALE__TF(struct gale_rpc_client_stats, conn_errors),
	GALE__TF(struct gale_rpc_client_stats, no_endpoint),
};
static const struct gale__tel_field gale__tel_remote_fields[] = {
	GALE__TF(struct gale_rpc_remote_stats, started),
	GALE__TF(struct gale_rpc_remote_stats, completed),
	GALE__TF(struct gale_rpc_remote_stats, failed),
	GALE__TF(struct gale_rpc_remote_stats, refused),
	GALE__TF(struct gale_rpc_remote_stats, cancelled),
	GALE__TF(struct gale_rpc_remote_stats, wait_expired),
	GALE__TF(struct gale_rpc_remote_stats, in_flight),
};
#undef GALE__TF

static void
gale__tel_fields(struct rte_tel_data *c, const void *st, const struct gale__tel_field *f, size_t n)
{
	rte_tel_data_start_dict(c);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const uint8_t *)st + f[i].off, sizeof(v));
		rte_tel_data_add_dict_u64(c, f[i].name, v);
	}
}

/* /gale/rpc/server, /gale/rpc/client, /gale/rpc/remote: the live ones by index, each a dict. */
static int
gale__tel_rpc(const char *cmd, const char *params, struct rte_tel_data *d)
{
	bool server = strcmp(cmd, "/gale/rpc/server") == 0;
	bool remote = strcmp(cmd, "/gale/rpc/remote") == 0;
	const struct gale__tel_list *l = server   ? &gale__tel_servers
	                                 : remote ? &gale__tel_remotes
	                                          : &gale__tel_clients;
	struct rte_tel_data *c;
	char key[16];

	(void)params;
	pthread_mutex_lock(&gale__tel_lock);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < l->n; i++) {
		if (l->v[i] == NULL)
			continue;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		if (server) {
			struct gale_rpc_stats st;

			gale_rpc_server_stats(l->v[i], &st);
			gale__tel_fields(c, &st, gale__tel_server_fields,
			                 RTE_DIM(gale__tel_server_fields));
		} else if (remote) {
			struct gale_rpc_remote_stats st;

			gale_rpc_remote_stats_get(l->v[i], &st);
			gale__tel_fields(c, &st, gale__tel_remote_fields,
			                 RTE_DIM(gale__tel_remote_fields));
		} else {
			struct gale_rpc_client_stats st;

			gale_rpc_client_stats_get(l->v[i], &st);
			gale__tel_fields(c, &st, gale__tel_client_fields,
			                 RTE_DIM(gale__tel_client_fields));
		}
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	pthread_mutex_unlock(&gale__tel_lock);
	return 0;
}

/* Register every /gale command once (the lock held). */
static void
gale__tel_register(void)
{
	if (!gale__tel_registered) {
		rte_telemetry_register_cmd(
		        "/gale/runtime", gale__tel_runtime,
		        "Runtime phase, workers, snapshot version. No parameters");
		rte_telemetry_register_cmd(
		        "/gale/workers", gale__tel_workers,
		        "Per-worker loop statistics. Parameter: worker id (optional)");
		rte_telemetry_register_cmd(
		        "/gale/ports", gale__tel_ports,
		        "Per-port ethdev statistics and pool occupancy. No parameters");
		rte_telemetry_register_cmd(
		        "/gale/rings", gale__tel_rings,
		        "Per-worker control ring depths and tx queue depth. No parameters");
		rte_telemetry_register_cmd("/gale/counters", gale__tel_counters,
		                           "Counters aggregated from the workers' deltas, by id "
		                           "(non-zero only). No parameters");
		rte_telemetry_register_cmd("/gale/rpc/server", gale__tel_rpc,
		                           "RPC server counters, per server. No parameters");
		rte_telemetry_register_cmd("/gale/rpc/client", gale__tel_rpc,
		                           "RPC client counters, per client. No parameters");
		rte_telemetry_register_cmd("/gale/rpc/remote", gale__tel_rpc,
		                           "Blocking-call handle counters, per handle. No parameters");
		gale__tel_registered = true;
	}
}

void
gale__telemetry_attach(struct gale_runtime *rt)
{
	pthread_mutex_lock(&gale__tel_lock);
	gale__tel_register();
	gale__tel_rt = rt;
	pthread_mutex_unlock(&gale__tel_lock);
}

/* Add p to (or remove it from) l. Adding may fail quietly (no memory): p is then not listed. */
static void
gale__tel_list_set(struct gale__tel_list *l, void *p, bool add)
{
	unsigned int i;

	pthread_mutex_lock(&gale__tel_lock);
	if (add) {
		gale__tel_register();
		/* Reuse trailing free slots so indexes stay small over a long life. */
		while (l->n > 0 && l->v[l->n - 1] == NULL)
			l->n--;
		if (l->n == l->cap) {
			unsigned int cap = l->cap != 0 ? l->cap * 2 : 16;
			void **v = realloc(l->v, cap * sizeof(*v));

			if (v != NULL) {
				l->v = v;
				l->cap = cap;
			}
		}
		if (l->n < l->cap)
			l->v[l->n++] = p;
	} else {
		for (i = 0; i < l->n; i++)
			if (l->v[i] == p)
				l->v[i] = NULL;
	}
	pthread_mutex_unlock(&gale__tel_lock);
}

void
gale__telemetry_rpc_server(struct gale_rpc_server *srv, bool add)
{
	gale__tel_list_set(&gale__tel_servers, srv, add);
}

void
gale__telemetry_rpc_client(struct gale_rpc_client *cl, bool add)
{
	gale__tel_list_set(&gale__tel_clients, cl, add);
}

void
gale__telemetry_rpc_remote(struct gale_rpc_remote *rm, bool add)
{
	gale__tel_list_set(&gale__tel_remotes, rm, add);
}

void
gale__telemetry_detach(struct gale_runtime *rt)
{
	pthread_mutex_lock(&gale__tel_lock);
	if (gale__tel_rt == rt)
		gale__tel_rt = NULL;
	pthread_mutex_unlock(&gale__tel_lock);
}

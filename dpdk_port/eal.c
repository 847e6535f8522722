/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL bootstrap: pass the user's EAL arguments through, or build the safe default (see gale/eal.h).
 *
 * The default argument vector is built on the stack and handed to rte_eal_init, which keeps pointers into it
 * only during the call (it copies what it keeps), so nothing here outlives the function.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "gale/eal.h"

#define GALE_EAL_MAX_ARGS 32

static int
gale__hugetlbfs_mounted(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char dev[128], dir[256], type[64];

		if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 && strcmp(type, "hugetlbfs") == 0 &&
		    access(dir, W_OK) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

unsigned int
gale_eal_hugepages_free(void)
{
	FILE *f;
	char line[256];
	unsigned long free_pages = 0, size_kb = 0;

	if (!gale__hugetlbfs_mounted())
		return 0;
	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &size_kb);
	}
	fclose(f);
	if (size_kb != 2048)
		return 0;
	return (unsigned int)free_pages;
}

int
gale_eal_init(int argc, char **argv, const struct gale_eal_defaults *def, struct gale_eal_info *info)
{
	static const struct gale_eal_defaults none;
	struct gale_eal_info local;
	char *args[GALE_EAL_MAX_ARGS];
	char mem[16], prefix_arg[96], lcores[64], log_level[64], vdev_buf[8][128];
	int n = 0, ret, i;
	unsigned int mem_mb;
	bool app_only = false;

	if (def == NULL)
		def = &none;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (argc < 1 || argv == NULL)
		return -EINVAL;

	/* Without a "--" anywhere, a program that asks for it takes every argument as its own. */
	if (def->app_args_only) {
		for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
			;
		app_only = i == argc;
	}
	/* The user gave EAL arguments: they are the user's business. */
	if (!app_only && argc > 1 && strcmp(argv[1], "--") != 0) {
		ret = rte_eal_init(argc, argv);
		if (ret < 0)
			return -rte_errno;
		info->huge = !rte_eal_has_hugepages() ? false : true;
		return ret;
	}

	info->defaults_used = true;
	mem_mb = def->mem_mb != 0 ? def->mem_mb : 512;
	args[n++] = argv[0];
	args[n++] = (char *)"--no-pci";
	snprintf(lcores, sizeof(lcores), "-l%s", def->lcores != NULL ? def->lcores : "0");
	args[n++] = lcores;
	snprintf(log_level, sizeof(log_level), "--log-level=%s",
		 def->log_level != NULL ? def->log_level : "lib.eal:warning");
	args[n++] = log_level;
	for (i = 0; def->vdevs != NULL && def->vdevs[i] != NULL && i < 8; i++) {
		snprintf(vdev_buf[i], sizeof(vdev_buf[i]), "--vdev=%s", def->vdevs[i]);
		args[n++] = vdev_buf[i];
	}
	if (!def->no_huge && gale_eal_hugepages_free() * 2u >= mem_mb) {
		info->huge = true;
		args[n++] = (char *)"--in-memory";
	} else {
		snprintf(mem, sizeof(mem), "-m%u", mem_mb);
		snprintf(info->file_prefix, sizeof(info->file_prefix), "gale-%ld", (long)getpid());
		snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", info->file_prefix);
		args[n++] = (char *)"--no-huge";
		args[n++] = mem;
		args[n++] = prefix_arg;
	}
	args[n] = NULL;
	if (!def->quiet) {
		fprintf(stderr, "gale: no EAL arguments given; using defaults:");
		for (i = 1; i < n; i++)
			fprintf(stderr, " %s", args[i]);
		fprintf(stderr, "%s\n",
			info->huge ? "" : "  (no free hugepages mounted: running with --no-huge, slower)");
	}
	ret = rte_eal_init(n, args);
	if (ret < 0)
		return -rte_errno;
	/* As rte_eal_init does: the program's arguments start at argv[ret], which now holds the program name. */
	if (!app_only && argc > 1 && strcmp(argv[1], "--") == 0) {
		argv[1] = argv[0];
		return 1;
	}
	return 0;
}

int
gale_eal_cleanup(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *rd = rte_eal_get_runtime_dir();
	const char *base;
	struct dirent *e;
	DIR *d;
	int ret;

	snprintf(dir, sizeof(dir), "%s", rd != NULL ? rd : "");
	ret = rte_eal_cleanup();
	base = strrchr(dir, '/');
	if (base == NULL || strncmp(base + 1, "gale-", 5) != 0)
		return ret;
	d = opendir(dir);
	if (d == NULL)
		return ret;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	return ret;
}

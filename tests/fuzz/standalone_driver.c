/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays files (or every file below the directories) given on the command line through LLVMFuzzerTestOneInput,
 * for builds without libFuzzer (gcc). Each input is copied into a buffer of exactly its size, so an over-read
 * is caught by ASan in the sanitizer build.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "cannot read %s\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

/* Replays path: a file, or every file below a directory (recursively). Adds to *runs and *errors. */
static void
run_path(const char *path, int *runs, int *errors)
{
	struct stat st;
	struct dirent *e;
	char sub[4096];
	DIR *d;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: not found\n", path);
		(*errors)++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		*errors += run_file(path);
		(*runs)++;
		return;
	}
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		(*errors)++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		run_path(sub, runs, errors);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	int i, runs = 0, errors = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* libFuzzer flags: ignored here */
		run_path(argv[i], &runs, &errors);
	}
	printf("replayed %d inputs, %d unreadable\n", runs, errors);
	return errors != 0 || runs == 0;
}

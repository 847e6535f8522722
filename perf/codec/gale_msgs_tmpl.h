/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale_msgs_tmpl.h: per-protocol readers and writers of the benchmark structs, included once per protocol with
 * P(x) naming the protocol function (gale_binary_x / gale_compact_x) and N(x) this file's function. This is the
 * shape gale-thriftc's generated code takes: straight-line calls of the inline protocol functions, a switch on
 * the field id, unknown or mistyped fields skipped, list arrays from the request arena after the count check.
 */

#define FIELD(tt, call) rc = (t == (tt)) ? (call) : P(skip)(r, t)

static int
N(read_request)(struct gale_codec_reader *r, struct gale_arena *a, struct bench_request *s)
{
	uint8_t t, kt, vt;
	int16_t id;
	uint32_t n, i;
	int rc;

	if ((rc = P(read_struct_begin)(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = P(read_field_begin)(r, &t, &id)) != 0)
			return rc;
		if (t == GALE_T_STOP)
			break;
		switch (id) {
		case 1:
			FIELD(GALE_T_I64, P(read_i64)(r, &s->id));
			break;
		case 2:
			FIELD(GALE_T_STRING, P(read_string)(r, &s->method));
			break;
		case 3:
			FIELD(GALE_T_I32, P(read_i32)(r, &s->timeout_ms));
			break;
		case 4:
			if (t != GALE_T_MAP) {
				rc = P(skip)(r, t);
				break;
			}
			if ((rc = P(read_map_begin)(r, &kt, &vt, &n)) != 0)
				return rc;
			if (n != 0 && (kt != GALE_T_STRING || vt != GALE_T_STRING))
				return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
			s->meta = gale_arena_alloc(a, (n ? n : 1) * sizeof(*s->meta), 8);
			if (s->meta == NULL)
				return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
			for (i = 0; i < n; i++) {
				if ((rc = P(read_string)(r, &s->meta[i].k)) != 0 ||
				    (rc = P(read_string)(r, &s->meta[i].v)) != 0)
					return rc;
			}
			s->n_meta = n;
			rc = P(read_map_end)(r);
			break;
		case 5:
			FIELD(GALE_T_BOOL, P(read_bool)(r, &s->flag));
			break;
		default:
			rc = P(skip)(r, t);
		}
		if (rc != 0)
			return rc;
	}
	return P(read_struct_end)(r);
}

static int
N(write_request)(struct gale_codec_writer *w, const struct bench_request *s)
{
	uint32_t i;

	if (P(write_struct_begin)(w) || P(write_field_begin)(w, GALE_T_I64, 1) || P(write_i64)(w, s->id) ||
	    P(write_field_begin)(w, GALE_T_STRING, 2) || P(write_string)(w, s->method.ptr, s->method.len) ||
	    P(write_field_begin)(w, GALE_T_I32, 3) || P(write_i32)(w, s->timeout_ms) ||
	    P(write_field_begin)(w, GALE_T_MAP, 4) || P(write_map_begin)(w, GALE_T_STRING, GALE_T_STRING, s->n_meta))
		return -1;
	for (i = 0; i < s->n_meta; i++) {
		if (P(write_string)(w, s->meta[i].k.ptr, s->meta[i].k.len) ||
		    P(write_string)(w, s->meta[i].v.ptr, s->meta[i].v.len))
			return -1;
	}
	if (P(write_map_end)(w) || P(write_field_begin)(w, GALE_T_BOOL, 5) || P(write_bool)(w, s->flag) ||
	    P(write_field_stop)(w) || P(write_struct_end)(w))
		return -1;
	return 0;
}

static int
N(read_echo)(struct gale_codec_reader *r, struct gale_arena *a, struct bench_echo *s)
{
	uint8_t t;
	int16_t id;
	int rc;

	(void)a;
	if ((rc = P(read_struct_begin)(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = P(read_field_begin)(r, &t, &id)) != 0)
			return rc;
		if (t == GALE_T_STOP)
			break;
		if (id == 1)
			FIELD(GALE_T_STRING, P(read_binary)(r, &s->data));
		else
			rc = P(skip)(r, t);
		if (rc != 0)
			return rc;
	}
	return P(read_struct_end)(r);
}

static int
N(write_echo)(struct gale_codec_writer *w, const struct bench_echo *s)
{
	if (P(write_struct_begin)(w) || P(write_field_begin)(w, GALE_T_STRING, 1) ||
	    P(write_binary)(w, s->data.ptr, s->data.len) || P(write_field_stop)(w) || P(write_struct_end)(w))
		return -1;
	return 0;
}

static int
N(read_item)(struct gale_codec_reader *r, struct gale_arena *a, struct bench_item *s)
{
	uint8_t t, et;
	int16_t id;
	uint32_t n, i;
	int rc;

	if ((rc = P(read_struct_begin)(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = P(read_field_begin)(r, &t, &id)) != 0)
			return rc;
		if (t == GALE_T_STOP)
			break;
		switch (id) {
		case 1:
			FIELD(GALE_T_I64, P(read_i64)(r, &s->id));
			break;
		case 2:
			FIELD(GALE_T_STRING, P(read_string)(r, &s->name));
			break;
		case 3:
			FIELD(GALE_T_DOUBLE, P(read_double)(r, &s->price));
			break;
		case 4:
			if (t != GALE_T_LIST) {
				rc = P(skip)(r, t);
				break;
			}
			if ((rc = P(read_list_begin)(r, &et, &n)) != 0)
				return rc;
			if (n != 0 && et != GALE_T_I32)
				return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
			s->tags = gale_arena_alloc(a, (n ? n : 1) * sizeof(*s->tags), 8);
			if (s->tags == NULL)
				return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
			for (i = 0; i < n; i++) {
				if ((rc = P(read_i32)(r, &s->tags[i])) != 0)
					return rc;
			}
			s->n_tags = n;
			rc = P(read_list_end)(r);
			break;
		default:
			rc = P(skip)(r, t);
		}
		if (rc != 0)
			return rc;
	}
	return P(read_struct_end)(r);
}

static int
N(write_item)(struct gale_codec_writer *w, const struct bench_item *s)
{
	uint32_t i;

	if (P(write_struct_begin)(w) || P(write_field_begin)(w, GALE_T_I64, 1) || P(write_i64)(w, s->id) ||
	    P(write_field_begin)(w, GALE_T_STRING, 2) || P(write_string)(w, s->name.ptr, s->name.len) ||
	    P(write_field_begin)(w, GALE_T_DOUBLE, 3) || P(write_double)(w, s->price) ||
	    P(write_field_begin)(w, GALE_T_LIST, 4) || P(write_list_begin)(w, GALE_T_I32, s->n_tags))
		return -1;
	for (i = 0; i < s->n_tags; i++) {
		if (P(write_i32)(w, s->tags[i]))
			return -1;
	}
	if (P(write_list_end)(w) || P(write_field_stop)(w) || P(write_struct_end)(w))
		return -1;
	return 0;
}

static int
N(read_address)(struct gale_codec_reader *r, struct bench_address *s)
{
	uint8_t t;
	int16_t id;
	int rc;

	if ((rc = P(read_struct_begin)(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = P(read_field_begin)(r, &t, &id)) != 0)
			return rc;
		if (t == GALE_T_STOP)
			break;
		switch (id) {
		case 1:
			FIELD(GALE_T_STRING, P(read_string)(r, &s->street));
			break;
		case 2:
			FIELD(GALE_T_STRING, P(read_string)(r, &s->city));
			break;
		case 3:
			FIELD(GALE_T_I32, P(read_i32)(r, &s->zip));
			break;
		default:
			rc = P(skip)(r, t);
		}
		if (rc != 0)
			return rc;
	}
	return P(read_struct_end)(r);
}

static int
N(write_address)(struct gale_codec_writer *w, const struct bench_address *s)
{
	if (P(write_struct_begin)(w) || P(write_field_begin)(w, GALE_T_STRING, 1) ||
	    P(write_string)(w, s->street.ptr, s->street.len) || P(write_field_begin)(w, GALE_T_STRING, 2) ||
	    P(write_string)(w, s->city.ptr, s->city.len) || P(write_field_begin)(w, GALE_T_I32, 3) ||
	    P(write_i32)(w, s->zip) || P(write_field_stop)(w) || P(write_struct_end)(w))
		return -1;
	return 0;
}

static int
N(read_order)(struct gale_codec_reader *r, struct gale_arena *a, struct bench_order *s)
{
	uint8_t t, et, vt;
	int16_t id;
	uint32_t n, i;
	int rc;

	if ((rc = P(read_struct_begin)(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = P(read_field_begin)(r, &t, &id)) != 0)
			return rc;
		if (t == GALE_T_STOP)
			break;
		switch (id) {
		case 1:
			FIELD(GALE_T_I64, P(read_i64)(r, &s->id));
			break;
		case 2:
			FIELD(GALE_T_STRING, P(read_string)(r, &s->customer));
			break;
		case 3:
			if (t != GALE_T_LIST) {
				rc = P(skip)(r, t);
				break;
			}
			if ((rc = P(read_list_begin)(r, &et, &n)) != 0)
				return rc;
			if (n != 0 && et != GALE_T_STRUCT)
				return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
			s->items = gale_arena_alloc(a, (n ? n : 1) * sizeof(*s->items), 8);
			if (s->items == NULL)
				return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
			for (i = 0; i < n; i++) {
				memset(&s->items[i], 0, sizeof(s->items[i]));
				if ((rc = N(read_item)(r, a, &s->items[i])) != 0)
					return rc;
			}
			s->n_items = n;
			rc = P(read_list_end)(r);
			break;
		case 4:
			if (t != GALE_T_MAP) {
				rc = P(skip)(r, t);
				break;
			}
			if ((rc = P(read_map_begin)(r, &et, &vt, &n)) != 0)
				return rc;
			if (n != 0 && (et != GALE_T_STRING || vt != GALE_T_I64))
				return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
			s->attrs = gale_arena_alloc(a, (n ? n : 1) * sizeof(*s->attrs), 8);
			if (s->attrs == NULL)
				return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
			for (i = 0; i < n; i++) {
				if ((rc = P(read_string)(r, &s->attrs[i].k)) != 0 ||
				    (rc = P(read_i64)(r, &s->attrs[i].v)) != 0)
					return rc;
			}
			s->n_attrs = n;
			rc = P(read_map_end)(r);
			break;
		case 5:
			FIELD(GALE_T_STRUCT, N(read_address)(r, &s->addr));
			break;
		default:
			rc = P(skip)(r, t);
		}
		if (rc != 0)
			return rc;
	}
	return P(read_struct_end)(r);
}

static int
N(write_order)(struct gale_codec_writer *w, const struct bench_order *s)
{
	uint32_t i;

	if (P(write_struct_begin)(w) || P(write_field_begin)(w, GALE_T_I64, 1) || P(write_i64)(w, s->id) ||
	    P(write_field_begin)(w, GALE_T_STRING, 2) || P(write_string)(w, s->customer.ptr, s->customer.len) ||
	    P(write_field_begin)(w, GALE_T_LIST, 3) || P(write_list_begin)(w, GALE_T_STRUCT, s->n_items))
		return -1;
	for (i = 0; i < s->n_items; i++) {
		if (N(write_item)(w, &s->items[i]))
			return -1;
	}
	if (P(write_list_end)(w) || P(write_field_begin)(w, GALE_T_MAP, 4) ||
	    P(write_map_begin)(w, GALE_T_STRING, GALE_T_I64, s->n_attrs))
		return -1;
	for (i = 0; i < s->n_attrs; i++) {
		if (P(write_string)(w, s->attrs[i].k.ptr, s->attrs[i].k.len) || P(write_i64)(w, s->attrs[i].v))
			return -1;
	}
	if (P(write_map_end)(w) || P(write_field_begin)(w, GALE_T_STRUCT, 5) || N(write_address)(w, &s->addr) ||
	    P(write_field_stop)(w) || P(write_struct_end)(w))
		return -1;
	return 0;
}

#undef FIELD

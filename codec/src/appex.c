/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appex.c: TApplicationException (<gale/appex.h>) over any protocol, through the run-time table of
 * <gale/proto.h>. Writes both fields always (message, then type), as Apache Thrift's C++ does; reads skip unknown
 * fields and tolerate missing ones (message empty, type UNKNOWN).
 */
#include <stddef.h>
#include <stdint.h>

#include <gale/appex.h>
#include <gale/codec.h>
#include <gale/proto.h>

static const char *const type_text[] = {
#define GALE__APPEX_TEXT(name, val, text) [val] = text,
	GALE_APPEX_TYPES(GALE__APPEX_TEXT)
#undef GALE__APPEX_TEXT
};

const char *
gale_appex_type_str(int type)
{
	if (type < 0 || (size_t)type >= sizeof(type_text) / sizeof(type_text[0]) || type_text[type] == NULL)
		return "unknown application exception type";
	return type_text[type];
}

int
gale_appex_type_from_reason(int reason)
{
	switch (reason) {
	case GALE_CODEC_E_BAD_TRANSFORM:
		return GALE_APPEX_INVALID_TRANSFORM;
	case GALE_CODEC_E_BAD_PROTOCOL:
	case GALE_CODEC_E_BAD_VERSION:
		return GALE_APPEX_INVALID_PROTOCOL;
	case GALE_CODEC_E_BAD_MSG_TYPE:
		return GALE_APPEX_INVALID_MESSAGE_TYPE;
	case GALE_CODEC_E_UNKNOWN_TRANSPORT:
		return GALE_APPEX_UNSUPPORTED_CLIENT_TYPE;
	case GALE_CODEC_E_ARENA_FULL:
	case GALE_CODEC_E_NO_SPACE:
		return GALE_APPEX_INTERNAL_ERROR;
	default:
		return GALE_APPEX_PROTOCOL_ERROR;
	}
}

int
gale_appex_write(struct gale_codec_writer *w, const struct gale_proto_ops *ops, const struct gale_appex *ex)
{
	int rc;

	if ((rc = ops->write_struct_begin(w)) != 0 || (rc = ops->write_field_begin(w, GALE_T_STRING, 1)) != 0 ||
	    (rc = ops->write_string(w, ex->message.ptr, ex->message.len)) != 0 ||
	    (rc = ops->write_field_begin(w, GALE_T_I32, 2)) != 0 || (rc = ops->write_i32(w, ex->type)) != 0 ||
	    (rc = ops->write_field_stop(w)) != 0)
		return rc;
	return ops->write_struct_end(w);
}

int
gale_appex_write_message(struct gale_codec_writer *w, const struct gale_proto_ops *ops, const char *method,
			 size_t method_len, int32_t seqid, const struct gale_appex *ex)
{
	int rc;

	if ((rc = ops->write_message_begin(w, method, method_len, GALE_MSG_EXCEPTION, seqid)) != 0)
		return rc;
	return gale_appex_write(w, ops, ex);
}

int
gale_appex_read(struct gale_codec_reader *r, const struct gale_proto_ops *ops, struct gale_appex *ex)
{
	uint8_t type;
	int16_t id;
	int rc;

	ex->message.ptr = NULL;
	ex->message.len = 0;
	ex->type = GALE_APPEX_UNKNOWN;
	if ((rc = ops->read_struct_begin(r)) != 0)
		return rc;
	for (;;) {
		if ((rc = ops->read_field_begin(r, &type, &id)) != 0)
			return rc;
		if (type == GALE_T_STOP)
			break;
		if (id == 1 && type == GALE_T_STRING)
			rc = ops->read_string(r, &ex->message);
		else if (id == 2 && type == GALE_T_I32)
			rc = ops->read_i32(r, &ex->type);
		else
			rc = ops->skip(r, type);
		if (rc != 0)
			return rc;
	}
	return ops->read_struct_end(r);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Timer wheel: implementation pending (issue 5); the API is gale/timer.h. */

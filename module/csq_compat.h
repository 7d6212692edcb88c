/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels csq builds for (Debian's 6.1 and 6.12),
 * in one place, so that no .c file needs an #if on the kernel.
 */
#ifndef _CSQ_COMPAT_H
#define _CSQ_COMPAT_H

#include <linux/compiler.h>
#include <linux/export.h>

/*
 * Exports for KUnit suites only.  <kunit/visibility.h> came with 6.2; the
 * 6.1 kernels csq is built for have no KUnit, and need no export: the
 * stand-in only names the symbol, as an export would.
 */
#ifdef CONFIG_KUNIT
#include <kunit/visibility.h>
#else
#define EXPORT_SYMBOL_IF_KUNIT(symbol) __ADDRESSABLE(symbol)
#endif

/*
 * Uring commands can be cancelled at ring exit since 6.7
 * (io_uring_cmd_mark_cancelable()); module/Kbuild looks for it.  Where it
 * is missing csqdev refuses the commands: a pending read that ring exit
 * could not cancel would keep its task from exiting.
 */
struct io_uring_cmd;

#ifdef CSQ_HAVE_URING_CMD_CANCEL
int csqdev_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
#else
static inline int csqdev_uring_cmd(struct io_uring_cmd *cmd,
				   unsigned int issue_flags)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _CSQ_COMPAT_H */

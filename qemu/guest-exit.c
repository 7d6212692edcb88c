// SPDX-License-Identifier: GPL-2.0
/*
 * Power the QEMU guest off with an exit status, through the
 * isa-debug-exit device that qemu/boot.sh adds at I/O port 0xf4.  QEMU
 * then exits with (status << 1) | 1, so the host sees the guest's verdict
 * without trusting the console.  Needs no ACPI, which the minimal debug
 * kernel lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	unsigned long status = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;

	if (ioperm(DEBUG_EXIT_PORT, 1, 1)) {
		perror("guest-exit: ioperm");
		return 1;
	}
	outb(status > 127 ? 127 : status, DEBUG_EXIT_PORT);
	/* Only reached without the device: let the caller fall back. */
	fprintf(stderr, "guest-exit: no isa-debug-exit device\n");
	return 1;
}

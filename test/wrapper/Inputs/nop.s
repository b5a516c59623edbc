	.text
	.globl nop_function
nop_function:
	ret
	.section .note.GNU-stack,"",@progbits

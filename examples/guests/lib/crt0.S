/* Guest entry: the Multiboot v1 header, a stack, kmain(magic, info), then the debug exit with
 * kmain's return value. Loaded at 1 MiB (link.ld). */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003          /* page-align modules, memory information */
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 16
stack_bottom:
    .skip 65536
    .globl stack_top
stack_top:

    .section .data
    .globl boot_magic, boot_info, boot_esp
boot_magic: .long 0
boot_info:  .long 0
boot_esp:   .long 0

    .section .text
    .globl _start
    .type _start, @function
_start:
    mov %eax, boot_magic
    mov %ebx, boot_info
    mov %esp, boot_esp
    mov $stack_top, %esp
    cld
    push %ebx
    push %eax
    call kmain
    push %eax
    call exit
1:  hlt
    jmp 1b
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits

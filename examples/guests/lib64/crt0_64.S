/* Long-mode guest entry. The Multiboot loader starts us in 32-bit flat protected mode with
 * paging off (docs/guest-contract.md); this builds an identity map of the first 4 GiB, switches
 * to IA-32e mode with the SDM Vol. 3 9.8.5 sequence (CR4.PAE, CR3, EFER.LME, then CR0.PG), far
 * jumps to a 64-bit code segment and calls kmain(magic, info), then exit(status).
 * Loaded at 1 MiB (link64.ld); linked as ELF64 and converted to ELF32 for the loaders. */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003          /* page-align modules, memory information */
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    /* Page tables (SDM Vol. 3 4.5): one PML4, one PDPT, four page directories of 2 MiB pages.
     * Every level has U/S=1 so ring 3 reaches the whole map; tests build their own tables
     * for the supervisor-only cases. */
    .section .bss
    .align 4096
    .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4 * 4096
    .align 16
stack_bottom:
    .skip 65536
    .globl stack_top
stack_top:

    .section .data
    .align 8
    .globl boot_magic, boot_info, boot_esp
    .globl boot_efer_before, boot_efer_lme, boot_efer_after, boot_cr0_before
boot_magic: .long 0
boot_info:  .long 0
boot_esp:   .long 0
    .align 8
boot_efer_before: .quad 0
boot_efer_lme:    .quad 0
boot_efer_after:  .quad 0
boot_cr0_before:  .quad 0

    /* The boot GDT: 0x08 64-bit code (L=1, D=0), 0x10 flat data. kernel_init replaces it
     * with one using the same two selectors. */
    .align 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .set PTE_P, 0x1
    .set PTE_W, 0x2
    .set PTE_U, 0x4
    .set PTE_PWT, 0x8
    .set PTE_PCD, 0x10
    .set PTE_PS, 0x80

    .section .text
    .code32
    .globl _start
    .type _start, @function
_start:
    mov %eax, boot_magic
    mov %ebx, boot_info
    mov %esp, boot_esp
    mov $stack_top, %esp
    cld
    /* clear the tables (the loader zeroes .bss too; being sure costs six pages) */
    mov $boot_pml4, %edi
    mov $(6 * 4096 / 4), %ecx
    xor %eax, %eax
    rep stosl
    /* PML4[0] -> PDPT; PDPT[0..3] -> the four directories */
    movl $(boot_pdpt + PTE_P + PTE_W + PTE_U), boot_pml4
    mov $boot_pdpt, %edi
    mov $(boot_pd + PTE_P + PTE_W + PTE_U), %eax
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $8, %edi
    add $4096, %eax
    loop 1b
    /* 2048 PDEs of 2 MiB pages: physical = linear for 0-4 GiB; the top 32 MiB (the IOAPIC and
     * LAPIC windows, 0xFE000000 up) uncached (PCD, PWT) */
    mov $boot_pd, %edi
    mov $(PTE_P + PTE_W + PTE_U + PTE_PS), %eax
    xor %ecx, %ecx
2:  mov %eax, %edx
    cmp $2032, %ecx
    jb 3f
    or $(PTE_PCD + PTE_PWT), %edx
3:  mov %edx, (%edi, %ecx, 8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    /* SDM Vol. 3 9.8.5: with paging off, CR4.PAE=1, CR3 = the PML4, EFER.LME=1, CR0.PG=1 */
    mov %cr0, %eax
    mov %eax, boot_cr0_before
    mov %cr4, %eax
    or $0x20, %eax                     /* CR4.PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx              /* IA32_EFER */
    rdmsr
    mov %eax, boot_efer_before
    mov %edx, boot_efer_before + 4
    or $0x100, %eax                    /* LME */
    wrmsr
    rdmsr
    mov %eax, boot_efer_lme
    mov %edx, boot_efer_lme + 4
    mov %cr0, %eax
    or $0x80000000, %eax               /* PG: the processor sets EFER.LMA */
    mov %eax, %cr0
    /* now in compatibility mode (IA-32e, CS still 32-bit): record EFER.LMA */
    rdmsr
    mov %eax, boot_efer_after
    mov %edx, boot_efer_after + 4
    lgdt boot_gdtr
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    mov $stack_top, %esp               /* below 4 GiB: the 32-bit move zero-extends */
    mov boot_magic(%rip), %edi
    mov boot_info(%rip), %esi
    call kmain
    mov %eax, %edi
    call exit
4:  hlt
    jmp 4b
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits

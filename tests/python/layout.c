/* The public structs' layout as the C compiler lays them out, for the Python package's ctypes
 * mirrors (test_layout.py compares each size and offset). Lines: "STRUCT SIZE" and
 * "STRUCT.MEMBER OFFSET SIZE", every member in the header's order. */
#include <stddef.h>
#include <stdio.h>

#include <x86irq/x86irq.h>

#define STRUCT(type) printf("%s %zu\n", #type, sizeof(type))
#define MEMBER(type, member) \
    printf("%s.%s %zu %zu\n", #type, #member, offsetof(type, member), sizeof(((type *)0)->member))

int main(void)
{
    STRUCT(x86irq_config);
    MEMBER(x86irq_config, size);
    MEMBER(x86irq_config, ram_size);
    MEMBER(x86irq_config, cpu_hz);
    MEMBER(x86irq_config, no_default_devices);
    MEMBER(x86irq_config, nic_msi);
    MEMBER(x86irq_config, nic_peer);
    MEMBER(x86irq_config, rtc_epoch);
    MEMBER(x86irq_config, cpus);
    MEMBER(x86irq_config, smp_quantum);
    MEMBER(x86irq_config, linux_entry);
    MEMBER(x86irq_config, isa);

    STRUCT(x86irq_trace_event);
    MEMBER(x86irq_trace_event, size);
    MEMBER(x86irq_trace_event, cycle);
    MEMBER(x86irq_trace_event, kind);
    MEMBER(x86irq_trace_event, vector);
    MEMBER(x86irq_trace_event, eip);
    MEMBER(x86irq_trace_event, cs);
    MEMBER(x86irq_trace_event, origin);
    MEMBER(x86irq_trace_event, cpl);
    MEMBER(x86irq_trace_event, from_cpl);
    MEMBER(x86irq_trace_event, depth);
    MEMBER(x86irq_trace_event, has_error_code);
    MEMBER(x86irq_trace_event, level);
    MEMBER(x86irq_trace_event, line);
    MEMBER(x86irq_trace_event, error_code);
    MEMBER(x86irq_trace_event, rule);
    MEMBER(x86irq_trace_event, esp);
    MEMBER(x86irq_trace_event, ss);
    MEMBER(x86irq_trace_event, gate);
    MEMBER(x86irq_trace_event, core);
    MEMBER(x86irq_trace_event, code_bits);
    MEMBER(x86irq_trace_event, symbol);
    MEMBER(x86irq_trace_event, detail);
    MEMBER(x86irq_trace_event, thread);
    MEMBER(x86irq_trace_event, previous_thread);

    STRUCT(x86irq_instruction_info);
    MEMBER(x86irq_instruction_info, size);
    MEMBER(x86irq_instruction_info, cycle);
    MEMBER(x86irq_instruction_info, eip);
    MEMBER(x86irq_instruction_info, linear);
    MEMBER(x86irq_instruction_info, cs);
    MEMBER(x86irq_instruction_info, length);
    MEMBER(x86irq_instruction_info, mode_bits);
    MEMBER(x86irq_instruction_info, bytes);
    MEMBER(x86irq_instruction_info, cpu);

    STRUCT(x86irq_hook_filter);
    MEMBER(x86irq_hook_filter, size);
    MEMBER(x86irq_hook_filter, first);
    MEMBER(x86irq_hook_filter, last);
    MEMBER(x86irq_hook_filter, trace_mask);
    MEMBER(x86irq_hook_filter, access);

    STRUCT(x86irq_hook_event);
    MEMBER(x86irq_hook_event, size);
    MEMBER(x86irq_hook_event, kind);
    MEMBER(x86irq_hook_event, cpu);
    MEMBER(x86irq_hook_event, cycle);
    MEMBER(x86irq_hook_event, trace);
    MEMBER(x86irq_hook_event, instruction);
    MEMBER(x86irq_hook_event, address);
    MEMBER(x86irq_hook_event, physical);
    MEMBER(x86irq_hook_event, access);
    MEMBER(x86irq_hook_event, length);
    MEMBER(x86irq_hook_event, value);

    STRUCT(x86irq_event_record);
    MEMBER(x86irq_event_record, size);
    MEMBER(x86irq_event_record, cycle);
    MEMBER(x86irq_event_record, eip);
    MEMBER(x86irq_event_record, error_code);
    MEMBER(x86irq_event_record, cs);
    MEMBER(x86irq_event_record, vector);
    MEMBER(x86irq_event_record, has_error_code);
    MEMBER(x86irq_event_record, origin);

    STRUCT(x86irq_nic_statistics);
    MEMBER(x86irq_nic_statistics, size);
    MEMBER(x86irq_nic_statistics, received);
    MEMBER(x86irq_nic_statistics, transmitted);
    MEMBER(x86irq_nic_statistics, receiver_disabled);
    MEMBER(x86irq_nic_statistics, link_down);
    MEMBER(x86irq_nic_statistics, undersize);
    MEMBER(x86irq_nic_statistics, oversize);
    MEMBER(x86irq_nic_statistics, filtered);
    MEMBER(x86irq_nic_statistics, no_bus_master);
    MEMBER(x86irq_nic_statistics, no_descriptors);
    MEMBER(x86irq_nic_statistics, receive_dma_error);
    MEMBER(x86irq_nic_statistics, transmit_dropped);

    /* enums are passed as int through ctypes */
    printf("x86irq_status %zu\nx86irq_stop_reason %zu\nx86irq_register %zu\n",
           sizeof(x86irq_status), sizeof(x86irq_stop_reason), sizeof(x86irq_register));
    return 0;
}

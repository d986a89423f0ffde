#ifndef TLSSCOPE_CPCAP_SHIM_H
#define TLSSCOPE_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif

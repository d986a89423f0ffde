/*
 * pcap-floor: the libpcap read floor. Opens a capture and reads every packet with pcap_next_ex, touching
 * nothing but the header lengths, so its time is what any libpcap-based analyzer pays before doing work.
 *
 *   cc -O2 bench/pcap-floor.c -lpcap -o bench/out/pcap-floor
 *   pcap-floor CAPTURE        prints "packets=N bytes=N" (bytes = sum of captured lengths)
 */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(argv[1], errbuf);
    if (pcap == NULL) {
        fprintf(stderr, "pcap-floor: %s: %s\n", argv[1], errbuf);
        return 2;
    }
    unsigned long long packets = 0, bytes = 0;
    struct pcap_pkthdr *header;
    const u_char *data;
    int status;
    while ((status = pcap_next_ex(pcap, &header, &data)) == 1) {
        packets++;
        bytes += header->caplen;
    }
    int exit_status = 0;
    if (status == PCAP_ERROR) {
        /* A damaged or truncated file: report what was read, like an analyzer would. */
        fprintf(stderr, "pcap-floor: %s: %s\n", argv[1], pcap_geterr(pcap));
        exit_status = 3;
    }
    printf("packets=%llu bytes=%llu\n", packets, bytes);
    pcap_close(pcap);
    return exit_status;
}

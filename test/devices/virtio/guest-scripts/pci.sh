for d in /sys/bus/pci/devices/*; do echo "pci=$(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)") irq=$(cat $d/irq)"; done
echo "virtio=$(ls /sys/bus/virtio/devices/ | wc -l) acpi-root-bridges=$(ls /sys/bus/acpi/devices/ | grep -c PNP0A03) noacpi=$(grep -c pci=noacpi /proc/cmdline)"
dmesg | grep -o 'setting IRQ [0-9]* as level-triggered' | sed 's/^/elcr: /'
echo END-pci-$((40+2))

for d in /sys/bus/pci/devices/*; do echo "pci=$(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)")"; done
echo "virtio=$(ls /sys/bus/virtio/devices/ | wc -l)"
echo END-pci-$((40+2))

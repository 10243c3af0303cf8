for d in /sys/bus/pci/devices/*; do echo "$(cat $d/vendor):$(cat $d/device) $(basename $(readlink $d/driver 2>/dev/null) 2>/dev/null)"; done
ls /sys/bus/virtio/devices/
echo END-pci-$((40+2))

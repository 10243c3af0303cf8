echo "vda=$(cat /sys/block/vda/size) serial=$(cat /sys/block/vda/serial) vdb-ro=$(cat /sys/block/vdb/ro)"
mkdir -p /mnt && mke2fs -q /dev/vda && mount /dev/vda /mnt && echo @TEXT@ > /mnt/hello.txt && sync && umount /mnt && echo blk-rw-ok-$((6*7))
dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null && echo blk-ro-wrote-$((6*7)) || echo blk-ro-refused-$((6*7))
echo END-blk-$((40+2))

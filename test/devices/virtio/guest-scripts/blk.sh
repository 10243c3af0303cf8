cat /sys/block/vda/size /sys/block/vda/serial /sys/block/vdb/ro
mkdir -p /mnt && mke2fs -q /dev/vda && mount /dev/vda /mnt && echo @TEXT@ > /mnt/hello.txt && sync && umount /mnt && echo blk-rw-ok
dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null && echo blk-ro-WROTE || echo blk-ro-refused
head -c 512 /dev/vdb | md5sum
echo END-blk-$((40+2))

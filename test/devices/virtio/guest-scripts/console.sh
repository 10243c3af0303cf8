ls /dev/hvc0 && echo @TEXT@ > /dev/hvc0
echo END-console-$((40+2))

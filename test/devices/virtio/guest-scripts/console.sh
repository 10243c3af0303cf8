ls /dev/hvc0 && echo @TEXT@-$((6*7)) > /dev/hvc0
echo END-console-$((40+2))

ip link set eth0 up
udhcpc -i eth0 -n -q -t 5 -s /bin/true 2>&1 | grep -o 'lease of [0-9.]* obtained'

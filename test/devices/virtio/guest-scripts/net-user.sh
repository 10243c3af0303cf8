ip link set eth0 up
echo '[ "$1" = bound ] && ip addr add $ip/$mask dev $interface && ip route add default via $router && echo $router > /tmp/router' > /tmp/dhcp.sh
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -n -q -t 10 -s /tmp/dhcp.sh >/dev/null 2>&1; echo "lease=$(ip -4 addr show eth0 | grep -o 'inet [0-9.]*' | cut -c6-) router=$(cat /tmp/router)"
(printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | nc $(cat /tmp/router) @PORT@ > /tmp/page &); sleep 8; tail -1 /tmp/page
mkdir -p /tmp/www && echo @TEXT@ > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo httpd-up-$((6*7))
sleep 120
echo END-net-$((40+2))

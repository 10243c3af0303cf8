ip link set eth0 up
echo '[ "$1" = bound ] && ip addr add $ip/$mask dev $interface && ip route add default via $router && echo $router > /tmp/router' > /tmp/dhcp.sh
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -n -q -t 10 -s /tmp/dhcp.sh >/dev/null 2>&1; echo "lease=$(ip -4 addr show eth0 | grep -o 'inet [0-9.]*' | cut -c6-) router=$(cat /tmp/router)"
wget -q -O - http://$(cat /tmp/router):@PORT@/hello.txt; echo wget-rc=$?
mkdir -p /tmp/www && echo @TEXT@ > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo httpd-up-$((6*7))

#!/bin/sh
# Makes the sandbox's key material: BOTH sides of every provider, for the demo and the tests only.
# Never use these for real money: the private keys are public in this repository.
#   tls-ca.pem                   private CA that only prepay's sandbox clients trust
#   tls-server.{pem,key}         the sandbox's HTTPS certificate (localhost, 127.0.0.1)
#   alipay-app.{key,pub}         merchant (our) app key: prepayd signs with .key, the sandbox verifies with .pub
#   alipay-platform.{key,pub}    "Alipay" key: the sandbox signs with .key, prepayd verifies with .pub
#   alipay-root.{key,pem}        certificate mode (K2): "Alipay" root CA (prepayd's root_cert_file)
#   alipay-cert-1.pem            certificate mode: alipay-platform.key's certificate (issued by the root)
#   alipay-cert-2.{key,pem}      certificate mode: the next Alipay certificate (rotation; downloaded by prepayd)
#   alipay-app-cert.pem          certificate mode: the merchant app key's certificate (app_cert_sn)
#   wechat-merchant.{key,pem}    merchant API key and certificate (serial -> serial_no)
#   wechat-platform-1/2.{key,pem} two overlapping platform certificates (rotation, K1)
#   wechat-pubkey.{key,pub}      the "WeChat Pay public key" (id in wechat-pubkey-id.txt)
#   wechat-apiv3.txt             the 32-byte APIv3 key (AES-256-GCM of notify resources)
#   unionpay-merchant.{key,pem}  merchant signing key and certificate (certId = decimal serial)
#   unionpay-root.{key,pem}      "UnionPay" root CA; unionpay-sign.{key,pem} its signing certificate
set -eu
cd "$(dirname "$0")"
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
pub() { openssl pkey -in "$1" -pubout -out "$2"; }
selfsigned() { # key pem subject serial days [ext]
    openssl req -new -x509 -key "$1" -out "$2" -subj "$3" -set_serial "$4" -days "$5" -utf8 ${6:+-addext "$6"}; }
signed() { # key pem subject serial cakey capem ext
    openssl req -new -key "$1" -subj "$3" -utf8 -out tmp.csr
    printf '%s\n' "$7" > tmp.ext
    openssl x509 -req -in tmp.csr -CA "$6" -CAkey "$5" -set_serial "$4" -days 36500 -extfile tmp.ext -out "$2" 2>/dev/null
    rm -f tmp.csr tmp.ext; }

rsa tls-ca.key
selfsigned tls-ca.key tls-ca.pem "/CN=prepay sandbox CA" 1 36500 "basicConstraints=critical,CA:TRUE"
rsa tls-server.key
signed tls-server.key tls-server.pem "/CN=prepay sandbox" 2 tls-ca.key tls-ca.pem \
    "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
rm -f tls-ca.srl

rsa alipay-app.key; pub alipay-app.key alipay-app.pub
rsa alipay-platform.key; pub alipay-platform.key alipay-platform.pub
rsa alipay-root.key
selfsigned alipay-root.key alipay-root.pem "/C=CN/O=Ant Financial sandbox/OU=Certification Authority/CN=Ant Financial sandbox Root" 1 36500 "basicConstraints=critical,CA:TRUE"
signed alipay-platform.key alipay-cert-1.pem "/C=CN/O=Ant Financial sandbox/OU=Alipay/CN=2088000000000001 alipay 1" 42701552432456004857627230056898180491 alipay-root.key alipay-root.pem "keyUsage=digitalSignature"
rsa alipay-cert-2.key
signed alipay-cert-2.key alipay-cert-2.pem "/C=CN/O=Ant Financial sandbox/OU=Alipay/CN=2088000000000001 alipay 2" 42701552432456004857627230056898180492 alipay-root.key alipay-root.pem "keyUsage=digitalSignature"
signed alipay-app.key alipay-app-cert.pem "/C=CN/O=prepay sandbox merchant/OU=Alipay app/CN=2021000000000001" 42701552708448241360226107228231049510 alipay-root.key alipay-root.pem "keyUsage=digitalSignature"

rsa wechat-merchant.key
selfsigned wechat-merchant.key wechat-merchant.pem "/CN=1900000109/O=prepay sandbox merchant" 0x4A1B2C3D4E5F60718293A4B5C6D7E8F901234567 36500
rsa wechat-platform-1.key
selfsigned wechat-platform-1.key wechat-platform-1.pem "/CN=Tenpay.com Root CA sandbox 1" 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1 36500
rsa wechat-platform-2.key
selfsigned wechat-platform-2.key wechat-platform-2.pem "/CN=Tenpay.com Root CA sandbox 2" 0x6E2A1B9C8D7F6E5D4C3B2A19081726354A5B6C7D 36500
rsa wechat-pubkey.key; pub wechat-pubkey.key wechat-pubkey.pub
printf 'PUB_KEY_ID_0119000001092025112400000000000001' > wechat-pubkey-id.txt
printf 'prepaySandboxApiV3Key0123456789' | head -c 32 > wechat-apiv3.txt
printf 'X' >> wechat-apiv3.txt

rsa unionpay-merchant.key
selfsigned unionpay-merchant.key unionpay-merchant.pem "/CN=777290058110048/O=prepay sandbox merchant" 69042905377 36500
rsa unionpay-root.key
selfsigned unionpay-root.key unionpay-root.pem "/CN=CFCA sandbox root/O=prepay sandbox" 1 36500 "basicConstraints=critical,CA:TRUE"
rsa unionpay-sign.key
signed unionpay-sign.key unionpay-sign.pem "/C=CN/O=中国银联股份有限公司/OU=00000000/CN=中国银联股份有限公司" 69026276696 unionpay-root.key unionpay-root.pem \
    "keyUsage=digitalSignature"
chmod 0600 ./*.key wechat-apiv3.txt

#include "fakemodbusserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace prepay::test {

namespace {

bool readExactly(int fd, unsigned char *buffer, size_t length)
{
    size_t done = 0;
    while (done < length) {
        const ssize_t n = ::recv(fd, buffer + done, length - done, 0);
        if (n <= 0)
            return false;
        done += size_t(n);
    }
    return true;
}

void sendAll(int fd, const std::vector<unsigned char> &bytes)
{
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        done += size_t(n);
    }
}

} // namespace

FakeModbusServer::FakeModbusServer()
{
    m_listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    ::setsockopt(m_listenFd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(m_listenFd, reinterpret_cast<sockaddr *>(&address), sizeof address);
    ::listen(m_listenFd, 8);
    socklen_t length = sizeof address;
    ::getsockname(m_listenFd, reinterpret_cast<sockaddr *>(&address), &length);
    m_port = ntohs(address.sin_port);
    m_thread = std::thread([this] { run(); });
}

FakeModbusServer::~FakeModbusServer()
{
    m_stop = true;
    m_thread.join();
    for (std::thread &t : m_lateReplies)
        t.join();
    ::close(m_listenFd);
}

void FakeModbusServer::push(Behaviour behaviour, int param)
{
    std::lock_guard lock(m_mutex);
    m_queue.emplace_back(behaviour, param);
}

void FakeModbusServer::setRegister(quint16 address, quint16 value)
{
    std::lock_guard lock(m_mutex);
    m_registers[address] = value;
}

void FakeModbusServer::setHandler(std::function<QByteArray(quint8, const QByteArray &)> handler)
{
    std::lock_guard lock(m_mutex);
    m_handler = std::move(handler);
}

QList<std::pair<quint16, QList<quint16>>> FakeModbusServer::writes() const
{
    std::lock_guard lock(m_mutex);
    return m_writes;
}

void FakeModbusServer::run()
{
    std::vector<int> clients;
    while (!m_stop) {
        std::vector<pollfd> fds;
        fds.push_back({m_listenFd, POLLIN, 0});
        for (int c : clients)
            fds.push_back({c, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 20) <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            const int c = ::accept4(m_listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) {
                clients.push_back(c);
                ++m_connections;
            }
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            const int fd = fds[i].fd;
            unsigned char probe;
            if (::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
                ::close(fd);
                std::erase(clients, fd);
                continue;
            }
            serve(fd);
        }
    }
    for (int c : clients)
        ::close(c);
}

void FakeModbusServer::serve(int fd)
{
    unsigned char header[7];
    if (!readExactly(fd, header, sizeof header))
        return;
    const int length = (header[4] << 8) | header[5];
    std::vector<unsigned char> pdu(size_t(std::max(0, length - 1)));
    if (pdu.empty() || !readExactly(fd, pdu.data(), pdu.size()))
        return;
    ++m_requests;

    std::pair<Behaviour, int> behaviour{Behaviour::Answer, 0};
    {
        std::lock_guard lock(m_mutex);
        if (!m_queue.empty()) {
            behaviour = m_queue.front();
            m_queue.pop_front();
        }
    }

    const quint16 tid = quint16((header[0] << 8) | header[1]);
    const unsigned char function = pdu[0];
    const quint16 address = quint16((pdu[1] << 8) | pdu[2]);
    const quint16 quantity = quint16((pdu[3] << 8) | pdu[4]);

    if (behaviour.first == Behaviour::LostRequest)
        return;
    std::vector<unsigned char> reply;
    std::function<QByteArray(quint8, const QByteArray &)> handler;
    {
        std::lock_guard lock(m_mutex);
        handler = m_handler;
    }
    if (function == 0x10 && behaviour.first != Behaviour::Exception) {
        QList<quint16> values;
        for (size_t i = 0; i < quantity && 7 + 2 * i < pdu.size(); ++i)
            values.append(quint16((pdu[6 + 2 * i] << 8) | pdu[7 + 2 * i]));
        std::lock_guard lock(m_mutex);
        m_writes.append({address, values});
    }
    if (handler && behaviour.first != Behaviour::Exception) {
        const QByteArray answer = handler(header[6], QByteArray(reinterpret_cast<const char *>(pdu.data()), qsizetype(pdu.size())));
        reply.assign(answer.begin(), answer.end());
    } else if (behaviour.first == Behaviour::Exception) {
        reply = {static_cast<unsigned char>(function | 0x80), static_cast<unsigned char>(behaviour.second)};
    } else if (function == 0x03) {
        reply = {function, static_cast<unsigned char>(quantity * 2)};
        std::lock_guard lock(m_mutex);
        for (quint16 a = address; a < address + quantity; ++a) {
            const quint16 v = m_registers.value(a, defaultValue(a));
            reply.push_back(static_cast<unsigned char>(v >> 8));
            reply.push_back(static_cast<unsigned char>(v & 0xFF));
        }
    } else if (function == 0x10) {
        std::lock_guard lock(m_mutex);
        const QList<quint16> &values = m_writes.last().second;
        for (qsizetype i = 0; i < values.size(); ++i)
            m_registers[quint16(address + i)] = values[i];
        reply = {pdu[0], pdu[1], pdu[2], pdu[3], pdu[4]};
    } else {
        reply = {static_cast<unsigned char>(function | 0x80), 0x01};
    }

    switch (behaviour.first) {
    case Behaviour::LostReply: return;
    case Behaviour::HangUp: ::shutdown(fd, SHUT_RDWR); return;
    default: break;
    }
    const quint16 replyTid = behaviour.first == Behaviour::WrongTid ? quint16(tid + 1) : tid;
    const auto replyLength = static_cast<quint16>(reply.size() + 1);
    std::vector<unsigned char> frame
        = {static_cast<unsigned char>(replyTid >> 8), static_cast<unsigned char>(replyTid & 0xFF), 0, 0,
            static_cast<unsigned char>(replyLength >> 8), static_cast<unsigned char>(replyLength & 0xFF), header[6]};
    frame.insert(frame.end(), reply.begin(), reply.end());
    if (behaviour.first == Behaviour::Late) {
        // The reply goes out later on a duplicate of the socket: the client may have hung up.
        const int copy = ::dup(fd);
        m_lateReplies.emplace_back([copy, frame, delayMs = behaviour.second] {
            std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
            sendAll(copy, frame);
            ::close(copy);
        });
        return;
    }
    sendAll(fd, frame);
}

} // namespace prepay::test

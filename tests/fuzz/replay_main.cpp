// Replays a corpus through LLVMFuzzerTestOneInput without libFuzzer, so a g++ build (./dev
// test) runs every seed and every crash input ever added, under the sanitizers of the asan
// preset when built there. Arguments: directories (every regular file in them, sorted) or
// files. Fails when given nothing to replay: a replay of zero inputs proves nothing.
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QStringList>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    QStringList files;
    for (int i = 1; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        const QFileInfo info(arg);
        if (info.isDir()) {
            const QDir dir(arg);
            for (const QString &name : dir.entryList(QDir::Files, QDir::Name))
                files.append(dir.filePath(name));
        } else if (info.isFile()) {
            files.append(arg);
        } else {
            std::fprintf(stderr, "fuzz replay: no such file or directory: %s\n", argv[i]);
            return 2;
        }
    }
    if (files.isEmpty()) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR|FILE...  (nothing to replay)\n", argv[0]);
        return 2;
    }
    for (const QString &path : files) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "fuzz replay: cannot read %s\n", qPrintable(path));
            return 2;
        }
        const QByteArray bytes = file.readAll();
        // Like libFuzzer: the input in a heap block of exactly its size (QByteArray keeps spare
        // capacity and a terminating NUL), so AddressSanitizer catches a read past the end.
        const std::vector<uint8_t> copy(bytes.cbegin(), bytes.cend());
        LLVMFuzzerTestOneInput(copy.data(), copy.size());
    }
    std::printf("fuzz replay: %lld inputs, no failure\n", static_cast<long long>(files.size()));
    return 0;
}

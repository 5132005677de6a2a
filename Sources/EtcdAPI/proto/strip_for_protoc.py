import re, sys
src = open(sys.argv[1]).read()
# google.api http annotations: option (google.api.http) = { ... };
def drop_http(src):
    marker = 'option (google.api.http) = {'
    while (i := src.find(marker)) >= 0:
        depth, j = 0, i + len(marker) - 1
        while True:
            if src[j] == '{': depth += 1
            elif src[j] == '}':
                depth -= 1
                if depth == 0: break
            j += 1
        end = src.index(';', j) + 1
        start = src.rfind('\n', 0, i)
        src = src[:start] + src[end:]
    return src
src = drop_http(src)
src = re.sub(r'\n\s*import "gogoproto/gogo.proto";', '', src)
src = re.sub(r'\n\s*// for grpc-gateway\n', '\n', src)
src = re.sub(r'\n\s*import "google/api/annotations.proto";', '', src)
src = re.sub(r'\n\s*option \(gogoproto\.[^;]*;', '', src)
# field options made only of gogoproto options
src = re.sub(r'\s*\[\s*\(gogoproto\.[^\]]*\]', '', src)
src = src.replace('import "etcd/mvcc/mvccpb/kv.proto";', 'import "mvccpb/kv.proto";')
src = src.replace('import "etcd/auth/authpb/auth.proto";', 'import "authpb/auth.proto";')
# rpc blocks emptied by the removal: `{\n  }` -> `{}`
src = re.sub(r'\{\s*\}', '{}', src)
# keep only the services the store uses
keep = set(sys.argv[2].split(',')) if len(sys.argv) > 2 else None
if keep is not None:
    def drop(m):
        return m.group(0) if m.group(1) in keep else ''
    src = re.sub(r'service (\w+) \{.*?\n\}\n', drop, src, flags=re.S)
# of Maintenance only Status, the endpoint health probe
src = re.sub(r'service Maintenance \{.*?\n\}\n', 'service Maintenance {\n  // Status gets the status of the member.\n  rpc Status(StatusRequest) returns (StatusResponse) {}\n}\n', src, flags=re.S)
open(sys.argv[1], 'w').write(src)

//! Request bodies captured from kubectl 1.37.1 (`-v=9` prints them as hex) decoded by
//! `skiff_apiserver::protobuf::decode_object`, against the JSON kubectl prints for the same
//! commands with `--dry-run=client -o json` (upstream's JSON encoding of the same objects,
//! less its `null`s); hand-encoded bodies for what kubectl does not send (times, raw JSON,
//! binary data, DeleteOptions) and malformed input.
//!
//! kubectl 1.37 sends protobuf from its typed commands: `create namespace / configmap / secret
//! / deployment / service / job / cronjob / ingress / pdb / quota / role...`, `autoscale`,
//! `create job --from`, `debug --copy-to`; `run`, `expose`, `delete` and evictions send JSON.

use serde_json::{json, Value};
use skiff_apiserver::protobuf::decode_object;

fn bytes(hex: &[&str]) -> Vec<u8> {
    let s: String = hex.concat();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode(hex: &[&str]) -> Value {
    decode_object(&bytes(hex)).unwrap()
}

/// `kubectl create ns foo` (kubectl 1.37.1).
const NAMESPACE: &[&str] = &[
    "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a02",
    "0a001a002200",
];

/// `kubectl create configmap cm1 --from-literal=a=b --from-literal=c=d` (kubectl 1.37.1).
const CONFIGMAP: &[&str] = &[
    "6b3873000a0f0a0276311209436f6e6669674d617012250a130a03636d3112001a0022002a0032003800420012060a01",
    "6112016212060a01631201641a002200",
];

/// `kubectl create secret generic s1 --from-literal=user=admin --from-literal=pw=p@ss` (kubectl 1.37.1).
const SECRET: &[&str] = &[
    "6b3873000a0c0a027631120653656372657412310a120a02733112001a0022002a00320038004200120a0a0270771204",
    "70407373120d0a0475736572120561646d696e1a001a002200",
];

/// `kubectl create deployment web --image=nginx --replicas=3` (kubectl 1.37.1).
const DEPLOYMENT: &[&str] = &[
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412ab010a1f0a0377656212001a0022002a00320038",
    "0042005a0a0a036170701203776562127a0803120c0a0a0a0361707012037765621a600a1c0a0012001a0022002a0032",
    "00380042005a0a0a036170701203776562124012220a056e67696e7812056e67696e782a0042006a0072008001008801",
    "00900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c080010",
    "0018002000280038001a002200",
];

/// `kubectl create service clusterip svc1 --tcp=80:8080` (kubectl 1.37.1).
const SERVICE: &[&str] = &[
    "6b3873000a0d0a027631120753657276696365126c0a210a047376633112001a0022002a003200380042005a0b0a0361",
    "707012047376633112430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a036170701204",
    "737663311a002209436c757374657249503a00420052005a00600068001a020a001a002200",
];

/// `kubectl create job j11 --image=busybox -- echo hi` (kubectl 1.37.1).
const JOB: &[&str] = &[
    "6b3873000a0f0a0862617463682f763112034a6f621286010a130a036a313112001a0022002a00320038004200126532",
    "630a100a0012001a0022002a00320038004200124f122c0a036a3131120762757379626f781a046563686f1a0268692a",
    "0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a01",
    "00c201001a082000280030003a001a002200",
];

/// `kubectl create ingress ing2 --rule=foo.com/bar*=svc1:8080,tls=sec --class=nginx` (kubectl 1.37.1).
const INGRESS: &[&str] = &[
    "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312630a140a04696e673212",
    "001a0022002a003200380042001247120e0a07666f6f2e636f6d12037365631a2e0a07666f6f2e636f6d12230a210a1f",
    "0a042f626172120f220d0a047376633112050a0010903f1a0650726566697822056e67696e781a020a001a002200",
];

/// `kubectl autoscale deployment web --min=2 --max=5 --name=hpa2` (kubectl 1.37.1).
const HPA: &[&str] = &[
    "6b3873000a290a0e6175746f7363616c696e672f76321217486f72697a6f6e74616c506f644175746f7363616c657212",
    "3e0a140a046870613212001a0022002a0032003800420012200a1a0a0a4465706c6f796d656e7412037765621a076170",
    "70732f7631100218051a04180020001a002200",
];

/// `kubectl create pdb pdb9 --selector=app=x --min-available=50%` (kubectl 1.37.1).
const PDB: &[&str] = &[
    "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123b0a140a0470646239",
    "12001a0022002a0032003800420012170a09080110001a03353025120a0a080a036170701201781a0a08001800200028",
    "0030001a002200",
];

/// `kubectl create quota q9 --hard=cpu=1,memory=1G,pods=10` (kubectl 1.37.1).
const QUOTA: &[&str] = &[
    "6b3873000a130a027631120d5265736f7572636551756f746112420a120a02713912001a0022002a0032003800420012",
    "2a0a0a0a0363707512030a01310a0e0a066d656d6f727912040a0231470a0c0a04706f647312040a0231301a001a0022",
    "00",
];

/// `kubectl debug rich --copy-to=rich-copy2 --container=c --image=nginx:2` (kubectl 1.37.1).
const POD: &[&str] = &[
    "6b3873000a090a0276311203506f64129a040a210a0a726963682d636f70793212001a0764656661756c7422002a0032",
    "003800420012df030a130a0464617461120b12090a0012050a033147690a200a0363666712199a01160a050a03636d31",
    "120a0a01611205612e74787418a4030a2a0a0464617069122282011f0a1d0a066c6162656c7312130a00120f6d657461",
    "646174612e6c6162656c7312d7010a016312076e67696e783a322a0032110a04687474701000185022035443502a003a",
    "060a01411201423a1c0a03504f4412001a130a110a00120d6d657461646174612e6e616d653a170a015312001a10220e",
    "0a040a027331120475736572180142310a0d0a0363707512060a043530306d0a110a066d656d6f727912070a05313238",
    "4d69120d0a0363707512060a043130306d4a130a046461746110011a052f64617461220032006a0072007a1d0a170a09",
    "4e45545f41444d494e0a0a5359535f50545241434510003800800100880100900100a201001a002000320042004a0052",
    "0058006000680072071000180028d00f8201008a01009201250a230a210a1f0a1d0a106b756265726e657465732e696f",
    "2f6f731202496e1a056c696e75789a0100a201290a04696e6974120762757379626f781a04747275652a0042006a0072",
    "00800100880100900100a20100a80100b2011b0a016b12064578697374731a00220a4e6f5363686564756c65281ec201",
    "00d80101f001001a130a001a0022002a0032004a005a0072008801001a002200",
];

/// `kubectl create job richjob --from=cronjob/richcj` (kubectl 1.37.1), the cron job made from
/// a pod with pointer fields at zero, probes, volumes, tolerations, affinity.
const RICH_JOB: &[&str] = &[
    "6b3873000a0f0a0862617463682f763112034a6f6212de050a91010a07726963686a6f6212001a0022002a0032003800",
    "42005a060a0174120131622b0a2163726f6e6a6f622e6b756265726e657465732e696f2f696e7374616e746961746512",
    "066d616e75616c6a430a0743726f6e4a6f621a0672696368636a222439653231613565352d396664302d343630312d38",
    "3534342d3937666363643133363338372a0862617463682f7631300112bd0432b6040a1d0a0012001a0022002a003200",
    "380042005a0b0a036170701204726963681294040a130a0464617461120b12090a0012050a033147690a200a03636667",
    "12199a01160a050a03636d31120a0a01611205612e74787418a4030a2a0a0464617069122282011f0a1d0a066c616265",
    "6c7312130a00120f6d657461646174612e6c6162656c731286020a016312056e67696e782a0032110a04687474701000",
    "185022035443502a003a060a01411201423a1c0a03504f4412001a130a110a00120d6d657461646174612e6e616d653a",
    "170a015312001a10220e0a040a027331120475736572180142310a0d0a0363707512060a043530306d0a110a066d656d",
    "6f727912070a053132384d69120d0a0363707512060a043130306d4a130a046461746110011a052f6461746122003200",
    "52210a1512130a012f120a080110001a04687474701a00220010051800200a280030005a180a0c1a0a0a06080010501a",
    "001200100018002000280030036a0072007a110a0b0a094e45545f41444d494e10003800800100880100900100a20100",
    "1a094f6e4661696c7572652000320042004a00520058006000680072071000180028d00f8201008a01009201250a230a",
    "210a1f0a1d0a106b756265726e657465732e696f2f6f731202496e1a056c696e75789a0100a201290a04696e69741207",
    "62757379626f781a04747275652a0042006a007200800100880100900100a20100a80100b2011b0a016b120645786973",
    "74731a00220a4e6f5363686564756c65281ec20100f00100380040001a082000280030003a001a002200",
];

#[test]
fn namespace() {
    assert_eq!(
        decode(NAMESPACE),
        json!({
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {
                "name": "foo"
            },
            "spec": {},
            "status": {}
        })
    );
}

#[test]
fn configmap() {
    assert_eq!(
        decode(CONFIGMAP),
        json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {
                "name": "cm1"
            },
            "data": {
                "a": "b",
                "c": "d"
            }
        })
    );
}

#[test]
fn secret() {
    assert_eq!(
        decode(SECRET),
        json!({
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {
                "name": "s1"
            },
            "data": {
                "pw": "cEBzcw==",
                "user": "YWRtaW4="
            }
        })
    );
}

#[test]
fn deployment() {
    assert_eq!(
        decode(DEPLOYMENT),
        json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": "web",
                "labels": {
                    "app": "web"
                }
            },
            "spec": {
                "replicas": 3,
                "selector": {
                    "matchLabels": {
                        "app": "web"
                    }
                },
                "template": {
                    "metadata": {
                        "labels": {
                            "app": "web"
                        }
                    },
                    "spec": {
                        "containers": [
                            {
                                "name": "nginx",
                                "image": "nginx",
                                "resources": {}
                            }
                        ]
                    }
                },
                "strategy": {}
            },
            "status": {}
        })
    );
}

#[test]
fn service() {
    assert_eq!(
        decode(SERVICE),
        json!({
            "kind": "Service",
            "apiVersion": "v1",
            "metadata": {
                "name": "svc1",
                "labels": {
                    "app": "svc1"
                }
            },
            "spec": {
                "ports": [
                    {
                        "name": "80-8080",
                        "protocol": "TCP",
                        "port": 80,
                        "targetPort": 8080
                    }
                ],
                "selector": {
                    "app": "svc1"
                },
                "type": "ClusterIP"
            },
            "status": {
                "loadBalancer": {}
            }
        })
    );
}

#[test]
fn job() {
    assert_eq!(
        decode(JOB),
        json!({
            "kind": "Job",
            "apiVersion": "batch/v1",
            "metadata": {
                "name": "j11"
            },
            "spec": {
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [
                            {
                                "name": "j11",
                                "image": "busybox",
                                "command": [
                                    "echo",
                                    "hi"
                                ],
                                "resources": {}
                            }
                        ],
                        "restartPolicy": "Never"
                    }
                }
            },
            "status": {}
        })
    );
}

#[test]
fn ingress() {
    assert_eq!(
        decode(INGRESS),
        json!({
            "kind": "Ingress",
            "apiVersion": "networking.k8s.io/v1",
            "metadata": {
                "name": "ing2"
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": [
                    {
                        "hosts": [
                            "foo.com"
                        ],
                        "secretName": "sec"
                    }
                ],
                "rules": [
                    {
                        "host": "foo.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/bar",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": "svc1",
                                            "port": {
                                                "number": 8080
                                            }
                                        }
                                    }
                                }
                            ]
                        }
                    }
                ]
            },
            "status": {
                "loadBalancer": {}
            }
        })
    );
}

#[test]
fn hpa() {
    assert_eq!(
        decode(HPA),
        json!({
            "kind": "HorizontalPodAutoscaler",
            "apiVersion": "autoscaling/v2",
            "metadata": {
                "name": "hpa2"
            },
            "spec": {
                "scaleTargetRef": {
                    "kind": "Deployment",
                    "name": "web",
                    "apiVersion": "apps/v1"
                },
                "minReplicas": 2,
                "maxReplicas": 5
            },
            "status": {
                "desiredReplicas": 0
            }
        })
    );
}

#[test]
fn pdb() {
    assert_eq!(
        decode(PDB),
        json!({
            "kind": "PodDisruptionBudget",
            "apiVersion": "policy/v1",
            "metadata": {
                "name": "pdb9"
            },
            "spec": {
                "minAvailable": "50%",
                "selector": {
                    "matchLabels": {
                        "app": "x"
                    }
                }
            },
            "status": {
                "disruptionsAllowed": 0,
                "currentHealthy": 0,
                "desiredHealthy": 0,
                "expectedPods": 0
            }
        })
    );
}

#[test]
fn quota() {
    assert_eq!(
        decode(QUOTA),
        json!({
            "kind": "ResourceQuota",
            "apiVersion": "v1",
            "metadata": {
                "name": "q9"
            },
            "spec": {
                "hard": {
                    "cpu": "1",
                    "memory": "1G",
                    "pods": "10"
                }
            },
            "status": {}
        })
    );
}

/// `kubectl debug --copy-to` of a pod created with pointer fields at zero / false: they
/// survive (Go writes them because they are set), the non-pointer zeros Go writes for every
/// field (`hostNetwork`, `stdin`, `generation`...) do not.
#[test]
fn pod_copied_by_debug() {
    let pod = decode(POD);
    assert_eq!(
        pod["metadata"],
        json!({"name": "rich-copy2", "namespace": "default"})
    );
    assert_eq!(pod["status"], json!({}));
    let spec = &pod["spec"];
    assert_eq!(spec["terminationGracePeriodSeconds"], json!(0));
    assert_eq!(spec["automountServiceAccountToken"], json!(false));
    assert_eq!(spec["enableServiceLinks"], json!(false));
    assert_eq!(spec["shareProcessNamespace"], json!(true));
    assert_eq!(
        spec["securityContext"],
        json!({"fsGroup": 2000, "runAsNonRoot": false, "runAsUser": 0})
    );
    for absent in [
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "restartPolicy",
        "dnsPolicy",
    ] {
        assert!(spec.get(absent).is_none(), "{absent}");
    }
    assert_eq!(
        spec["containers"],
        json!([{
            "env": [
                {"name": "A", "value": "B"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "S", "valueFrom": {"secretKeyRef": {"key": "user", "name": "s1", "optional": true}}}
            ],
            "image": "nginx:2",
            "name": "c",
            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}},
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"add": ["NET_ADMIN", "SYS_PTRACE"]},
                "privileged": false
            },
            "volumeMounts": [{"mountPath": "/data", "name": "data", "readOnly": true}]
        }])
    );
    assert_eq!(
        spec["initContainers"],
        json!([{"command": ["true"], "image": "busybox", "name": "init", "resources": {}}])
    );
    // Volume sources are embedded (inline) in Go: their fields sit next to `name`.
    assert_eq!(
        spec["volumes"],
        json!([
            {"emptyDir": {"sizeLimit": "1Gi"}, "name": "data"},
            {"configMap": {"defaultMode": 420, "items": [{"key": "a", "path": "a.txt"}], "name": "cm1"}, "name": "cfg"},
            {"downwardAPI": {"items": [{"fieldRef": {"fieldPath": "metadata.labels"}, "path": "labels"}]}, "name": "dapi"}
        ])
    );
    assert_eq!(
        spec["tolerations"],
        json!([{"effect": "NoSchedule", "key": "k", "operator": "Exists", "tolerationSeconds": 30}])
    );
    assert_eq!(
        spec["affinity"],
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
        ]}}})
    );
}

/// `kubectl create job --from=cronjob/...`: owner references, pointers at zero in the job
/// spec, probes with `IntOrString` ports by name and number.
#[test]
fn job_from_cronjob() {
    let job = decode(RICH_JOB);
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let meta = &job["metadata"];
    assert_eq!(meta["name"], "richjob");
    assert_eq!(
        meta["annotations"],
        json!({"cronjob.kubernetes.io/instantiate": "manual"})
    );
    assert_eq!(meta["labels"], json!({"t": "1"}));
    let owner = &meta["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["controller"], json!(true));
    assert!(owner.get("blockOwnerDeletion").is_none());
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], json!(0));
    assert_eq!(spec["ttlSecondsAfterFinished"], json!(0));
    let c = &spec["template"]["spec"]["containers"][0];
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"path": "/", "port": "http"}, "initialDelaySeconds": 5, "periodSeconds": 10})
    );
    assert_eq!(
        c["readinessProbe"],
        json!({"failureThreshold": 3, "tcpSocket": {"port": 80}})
    );
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "OnFailure");
    assert_eq!(
        spec["template"]["metadata"],
        json!({"labels": {"app": "rich"}})
    );
}

// ---- hand-encoded bodies ----

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn num(tag: u32, v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(tag) << 3, &mut out);
    varint(v as u64, &mut out);
    out
}

fn len(tag: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint((u64::from(tag) << 3) | 2, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// `k8s\0` + `runtime.Unknown{typeMeta{apiVersion, kind}, raw}`.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = cat(&[len(1, api_version.as_bytes()), len(2, kind.as_bytes())]);
    let mut out = b"k8s\x00".to_vec();
    out.extend(cat(&[
        len(1, &type_meta),
        len(2, raw),
        len(3, b""),
        len(4, b""),
    ]));
    out
}

#[test]
fn times_raw_json_bytes_and_managed_fields() {
    let time = |s: i64, n: i64| cat(&[num(1, s), num(2, n)]);
    let managed = cat(&[
        len(1, b"kubectl"),
        len(2, b"Update"),
        len(3, b"apps/v1"),
        len(4, &time(1_700_000_000, 0)),
        len(6, b"FieldsV1"),
        len(7, &len(1, br#"{"f:data":{}}"#)),
    ]);
    let meta = cat(&[
        len(1, b"rev1"),
        len(8, &time(1_700_000_000, 999_999_999)),
        len(9, &[]),
        len(17, &managed),
    ]);
    let raw = cat(&[
        len(1, &meta),
        len(
            2,
            &len(1, br#"{"spec":{"replicas":2},"list":[1,"a",null]}"#),
        ),
        num(3, 7),
    ]);
    let got = decode_object(&envelope("apps/v1", "ControllerRevision", &raw)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": "rev1",
                "creationTimestamp": "2023-11-14T22:13:20Z",
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2023-11-14T22:13:20Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {}}
                }]
            },
            "data": {"spec": {"replicas": 2}, "list": [1, "a", null]},
            "revision": 7
        })
    );

    let event = cat(&[
        len(1, &len(1, b"e1")),
        len(2, &time(1_700_000_000, 123_456_789)),
        len(4, b"ctrl"),
        len(13, &time(0, 0)),
    ]);
    let got = decode_object(&envelope("events.k8s.io/v1", "Event", &event)).unwrap();
    assert_eq!(got["eventTime"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(got["deprecatedFirstTimestamp"], "1970-01-01T00:00:00Z");
    assert_eq!(got["reportingController"], "ctrl");

    let entry = |k: &[u8], v: &[u8]| len(2, &cat(&[len(1, k), len(2, v)]));
    let secret = cat(&[
        len(1, &len(1, b"s")),
        entry(b"bin", &[0, 255, 1, 254]),
        entry(b"empty", b""),
        len(4, &cat(&[len(1, b"plain"), len(2, b"text")])),
        len(3, b"kubernetes.io/tls"),
    ]);
    let got = decode_object(&envelope("v1", "Secret", &secret)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"bin": "AP8B/g==", "empty": ""},
            "stringData": {"plain": "text"},
            "type": "kubernetes.io/tls"
        })
    );
}

#[test]
fn delete_options_keep_their_zeros() {
    let raw = cat(&[
        num(1, 0),
        len(2, &cat(&[len(1, b"uid-1"), len(2, b"42")])),
        num(3, 0),
        len(4, b"Foreground"),
        len(5, b"All"),
    ]);
    for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        let got = decode_object(&envelope(api_version, "DeleteOptions", &raw)).unwrap();
        assert_eq!(
            got,
            json!({
                "apiVersion": api_version,
                "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "uid-1", "resourceVersion": "42"},
                "orphanDependents": false,
                "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            })
        );
    }
}

#[test]
fn repeated_fields_merged_messages_and_unknown_fields() {
    // Two occurrences of `metadata` merge (protobuf semantics); field 99 is unknown and
    // skipped; repeated strings keep their order; a negative int32 is a 10-byte varint.
    let raw = cat(&[
        len(1, &len(1, b"ns1")),
        len(1, &len(11, &cat(&[len(1, b"k"), len(2, b"v")]))),
        len(2, &cat(&[len(1, b"kubernetes"), len(1, b"other")])),
        num(99, 5),
    ]);
    let got = decode_object(&envelope("v1", "Namespace", &raw)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "ns1", "labels": {"k": "v"}},
            "spec": {"finalizers": ["kubernetes", "other"]}
        })
    );
    let port = cat(&[num(3, 80), num(5, -1)]);
    let spec = cat(&[len(1, &port)]);
    let got = decode_object(&envelope("v1", "Service", &len(2, &spec))).unwrap();
    assert_eq!(got["spec"]["ports"], json!([{"port": 80, "nodePort": -1}]));
}

#[test]
fn errors_are_reported_not_panics() {
    let err = |b: &[u8]| decode_object(b).unwrap_err();
    assert!(err(b"{}").contains("does not appear to be a protobuf message"));
    assert!(err(b"k8s\x00\x0a\x05").contains("EOF"));
    assert_eq!(
        err(&envelope("v1", "", b"")),
        "Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:\"v1\", Kind:\"\"}'"
    );
    assert!(err(&envelope("", "Pod", b"")).starts_with("Object 'apiVersion' is missing"));
    assert!(err(&envelope("v1", "Nope", b"")).contains("no kind \"Nope\" is registered"));
    // A string field holding a varint, a message holding garbage, invalid UTF-8.
    assert!(decode_object(&envelope("v1", "Namespace", &len(1, &num(1, 3)))).is_err());
    assert!(decode_object(&envelope("v1", "Namespace", &len(1, &[0xff]))).is_err());
    assert!(decode_object(&envelope("v1", "Namespace", &len(1, &len(1, &[0xc3])))).is_err());
}

/// Every truncation and single-byte change of the captured bodies decodes or fails cleanly.
#[test]
fn mangled_bodies_never_panic() {
    for hex in [NAMESPACE, DEPLOYMENT, SERVICE, POD, RICH_JOB] {
        let body = bytes(hex);
        for n in 0..body.len() {
            let _ = decode_object(&body[..n]);
        }
        for i in (4..body.len()).step_by(3) {
            for b in [0x00, 0x02, 0x7f, 0x80, 0xff] {
                let mut m = body.clone();
                m[i] = b;
                let _ = decode_object(&m);
            }
        }
    }
}

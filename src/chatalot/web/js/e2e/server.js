// The server's key API as the encryption engine (./engine.js) uses it: a thin adapter over the
// client's one REST module, so the engine can run against a stand-in in tests.

import { api } from "../api.js";

export const serverKeys = {
  register: (body) => api.keys.register(body),
  prekeyCount: async () => {
    const answer = await api.keys.prekeyCount();
    return answer && Number.isInteger(answer.count) ? answer.count : 0;
  },
  uploadOneTimePrekeys: (list) => api.keys.uploadOneTime(list),
  bundle: (userId) => api.keys.bundle(userId),
  senderKeys: (channelId) => api.keys.senderKeys(channelId),
  uploadSenderKey: (channelId, body) => api.keys.uploadSenderKey(channelId, body),
};

// Source units: the registry with kind, credit code, sharing state, contacts and connected systems.
import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, label, options } from "./labels.js";
import { api } from "../../api.js";
import { tableComponents } from "../../tables.js";
import { can } from "../../session.js";

export default {
  name: "UnitsPage",
  components: { ...tableComponents },
  setup() {
    const rows = ref([]);
    const loading = ref(false);
    const q = ref("");
    const form = reactive({ open: false, isNew: false, code: "", name: "", kind: "other", credit_code: "", state: "negotiating", description: "", contacts: [], systems: [] });
    const detail = ref(null);
    const theirs = ref([]);
    async function load() {
      loading.value = true;
      try {
        const [units, live] = await Promise.all([api("/catalog/units"), api("/exchange/connections/live-units")]);
        rows.value = units; liveUnits.value = new Set(live);
      } finally { loading.value = false; }
    }
    // "已接入" only for a unit with a live connection; an integrated unit without one says it is not connected
    const liveUnits = ref(new Set());
    const shownState = (u) => (u.state === "integrated" && !liveUnits.value.has(u.code) ? "integrated_idle" : u.state);
    const stateTag = (u) => ({ integrated: "success", left: "danger", integrated_idle: "info" })[shownState(u)] || "warning";
    const shown = () => rows.value.filter((u) => !q.value || u.name.includes(q.value) || u.code.includes(q.value.toUpperCase()));
    function edit(u) {
      Object.assign(form, { open: true, isNew: !u, code: u?.code || "", name: u?.name || "", kind: u?.kind || "other", credit_code: u?.credit_code || "", state: u?.state || "negotiating", description: u?.description || "", contacts: JSON.parse(JSON.stringify(u?.contacts || [])), systems: JSON.parse(JSON.stringify(u?.systems || [])) });
    }
    async function show(u) {
      detail.value = u;
      theirs.value = (await api(`/catalog/resources?provider=${u.code}&size=100`)).items;
    }
    async function save() {
      const body = { code: form.code, name: form.name, kind: form.kind, credit_code: form.credit_code || null, state: form.state, description: form.description || null, contacts: form.contacts.filter((c) => c.name), systems: form.systems.filter((s) => s.name) };
      await api(`/catalog/units/${encodeURIComponent(form.code)}`, { method: "PUT", body });
      ElMessage.success(t("cat.saved"));
      form.open = false;
      load();
    }
    onMounted(load);
    return { t, label, options, rows, loading, q, form, detail, theirs, shown, edit, show, save, can, shownState, stateTag };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('unit.title') }}</h2>
    <div class="toolbar">
      <el-input v-model="q" :placeholder="t('unit.name')" clearable />
      <el-button v-if="can('units:write')" type="primary" @click="edit(null)" data-test="unit-new">{{ t('unit.new') }}</el-button>
    </div>
    <list-table :data="shown()" :name="t('nav.units')" :searchable="false" :page-size="50" v-loading="loading" stripe data-test="units-table">
      <el-table-column prop="code" sortable="custom" :label="t('unit.code')" width="110" />
      <el-table-column prop="name" sortable="custom" :label="t('unit.name')" min-width="200"><template #default="{ row }"><el-button link type="primary" @click="show(row)">{{ row.name }}</el-button></template></el-table-column>
      <el-table-column :label="t('unit.kind')" width="140" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ label('unit_kind', row.kind) }}</template></el-table-column>
      <el-table-column prop="credit_code" :label="t('unit.creditCode')" width="190" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('unit.state')" width="100"><template #default="{ row }"><el-tag size="small" :type="stateTag(row)" :data-test="'unit-state-' + row.code">{{ label('unit_state', shownState(row)) }}</el-tag></template></el-table-column>
      <el-table-column prop="resources" sortable="custom" :label="t('unit.resources')" width="100" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column v-if="can('units:write')" :label="t('common.actions')" width="80" fixed="right"><template #default="{ row }"><el-button link type="primary" @click="edit(row)" :data-test="'unit-edit-' + row.code">{{ t('common.edit') }}</el-button></template></el-table-column>
    </list-table>

    <el-drawer :model-value="!!detail" @update:model-value="detail = null" :title="detail?.name" size="min(560px, 100%)">
      <template v-if="detail">
        <el-descriptions :column="1" border size="small">
          <el-descriptions-item :label="t('unit.code')">{{ detail.code }}</el-descriptions-item>
          <el-descriptions-item :label="t('unit.kind')">{{ label('unit_kind', detail.kind) }}</el-descriptions-item>
          <el-descriptions-item :label="t('unit.creditCode')">{{ detail.credit_code || '—' }}</el-descriptions-item>
          <el-descriptions-item :label="t('unit.state')">{{ label('unit_state', shownState(detail)) }}</el-descriptions-item>
          <el-descriptions-item :label="t('unit.description')">{{ detail.description || '—' }}</el-descriptions-item>
        </el-descriptions>
        <h4>{{ t('unit.contacts') }}</h4>
        <el-table :data="detail.contacts" size="small"><el-table-column prop="name" :label="t('unit.contactName')" /><el-table-column prop="role" :label="t('unit.contactRole')" /><el-table-column prop="phone" :label="t('unit.phone')" /></el-table>
        <h4>{{ t('unit.systems') }}</h4>
        <el-table :data="detail.systems" size="small"><el-table-column prop="name" :label="t('unit.sysName')" /><el-table-column prop="kind" :label="t('unit.sysKind')" /><el-table-column prop="address" :label="t('unit.address')" /></el-table>
        <h4>{{ t('unit.theirResources') }}</h4>
        <el-table :data="theirs" size="small" @row-click="(r) => $router.push('/catalog/r/' + r.code)"><el-table-column prop="code" :label="t('cat.code')" width="90" /><el-table-column prop="name" :label="t('cat.name')" /><el-table-column :label="t('cat.state')" width="100"><template #default="{ row }">{{ label('state', row.state) }}</template></el-table-column></el-table>
      </template>
    </el-drawer>

    <el-dialog v-model="form.open" :title="form.isNew ? t('unit.new') : t('unit.edit')" width="720px" style="max-width:96vw">
      <el-form label-width="130px">
        <el-form-item :label="t('unit.code')" required><el-input v-model="form.code" :disabled="!form.isNew" data-test="unit-code" /></el-form-item>
        <el-form-item :label="t('unit.name')" required><el-input v-model="form.name" data-test="unit-name" /></el-form-item>
        <el-form-item :label="t('unit.kind')"><el-select v-model="form.kind"><el-option v-for="o in options('unit_kind')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item>
        <el-form-item :label="t('unit.creditCode')"><el-input v-model="form.credit_code" maxlength="18" data-test="unit-credit" /></el-form-item>
        <el-form-item :label="t('unit.state')"><el-radio-group v-model="form.state"><el-radio v-for="o in options('unit_state').filter((o) => o.value !== 'integrated_idle')" :key="o.value" :value="o.value">{{ o.label }}</el-radio></el-radio-group></el-form-item>
        <el-form-item :label="t('unit.description')"><el-input v-model="form.description" type="textarea" /></el-form-item>
        <el-form-item :label="t('unit.contacts')">
          <div v-for="(c, n) in form.contacts" :key="n" class="toolbar" style="margin-bottom:4px">
            <el-input v-model="c.name" :placeholder="t('unit.contactName')" style="width:110px" /><el-input v-model="c.role" :placeholder="t('unit.contactRole')" style="width:130px" /><el-input v-model="c.phone" :placeholder="t('unit.phone')" style="width:140px" />
            <el-button link type="danger" @click="form.contacts.splice(n, 1)">{{ t('unit.remove') }}</el-button>
          </div>
          <el-button size="small" @click="form.contacts.push({ name: '', role: '', phone: '' })">{{ t('unit.add') }}</el-button>
        </el-form-item>
        <el-form-item :label="t('unit.systems')">
          <div v-for="(s, n) in form.systems" :key="n" class="toolbar" style="margin-bottom:4px">
            <el-input v-model="s.name" :placeholder="t('unit.sysName')" style="width:140px" /><el-input v-model="s.kind" :placeholder="t('unit.sysKind')" style="width:90px" /><el-input v-model="s.address" :placeholder="t('unit.address')" style="width:180px" />
            <el-button link type="danger" @click="form.systems.splice(n, 1)">{{ t('unit.remove') }}</el-button>
          </div>
          <el-button size="small" @click="form.systems.push({ name: '', kind: 'api', address: '' })">{{ t('unit.add') }}</el-button>
        </el-form-item>
      </el-form>
      <template #footer><el-button @click="form.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="save" data-test="unit-save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
